using StackExchange.Redis;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Reads a lock's holds key straight from Redis, in either of its layouts.</summary>
public static class LockLayout
{
    /// <summary>
    /// The exclusive holder's token, or null when nobody holds the lock exclusively. A sole exclusive hold taken on
    /// the fast path is a string <c>token|owner</c> (lock_fast_acquire.lua); otherwise the holds are a hash
    /// whose <c>#w</c> field is the writer's token (lock_acquire.lua).
    /// </summary>
    public static async Task<string?> WriterTokenAsync(IDatabase database, RedisKey holds)
    {
        var type = await database.KeyTypeAsync(holds);
        if (type == RedisType.String)
        {
            var value = (string?)await database.StringGetAsync(holds);
            return value?[..value.IndexOf('|', StringComparison.Ordinal)];
        }

        return type == RedisType.Hash ? (string?)await database.HashGetAsync(holds, "#w") : null;
    }
}
