using StackExchange.Redis;

namespace Coordination.Benchmarks.Sessions;

/// <summary>
/// Baseline (a): a session as a Redis hash with raw StackExchange.Redis, each operation's commands sent together without
/// waiting for one answer before the next (pipelined), which is the least a client can do per operation.
/// </summary>
internal sealed class RawHashSessionClient(IDatabase database, TimeSpan idleTimeout) : ISessionClient
{
    private const string KeyPrefix = "raw:session:";
    private const string UserIndexPrefix = "raw:user-sessions:";

    public string Name => "raw (a)";

    public string GetDescription => "`HGETALL` + `PEXPIRE` of the session's hash, pipelined; the values stay Redis strings (no JSON parsing)";

    public string CreateDescription => "`HSET` of the data fields plus user, version and creation time, `PEXPIRE`, and `ZADD` of the id to the user's index (ours keeps one), pipelined";

    public async ValueTask<string> CreateAsync(string userId, SessionData data)
    {
        var id = SessionData.NewId();
        var key = (RedisKey)(KeyPrefix + id);
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        HashEntry[] fields = [.. data.HashFields, new("_user", userId), new("_version", 1), new("_created", now)];
        var set = database.HashSetAsync(key, fields);
        var expire = database.KeyExpireAsync(key, idleTimeout);
        var index = database.SortedSetAddAsync(UserIndexPrefix + userId, id, now + (long)idleTimeout.TotalMilliseconds);
        await Task.WhenAll(set, expire, index);
        return id;
    }

    public async ValueTask GetAsync(string id)
    {
        var key = (RedisKey)(KeyPrefix + id);
        var read = database.HashGetAllAsync(key);
        var expire = database.KeyExpireAsync(key, idleTimeout);
        await Task.WhenAll(read, expire);
        if ((await read).Length == 0)
        {
            throw new InvalidOperationException("Session not found.");
        }
    }
}
