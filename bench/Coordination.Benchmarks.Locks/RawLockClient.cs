using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>StackExchange.Redis's own <c>LockTakeAsync</c> / <c>LockReleaseAsync</c>: the floor of what a lock costs.</summary>
internal sealed class RawLockClient(IConnectionMultiplexer multiplexer, TimeSpan timeToLive) : ILockClient
{
    private readonly IDatabase _database = multiplexer.GetDatabase();

    public string Name => "raw StackExchange.Redis";

    public string Description =>
        $"`IDatabase.LockTakeAsync(key, token, {timeToLive.TotalSeconds:0} s)` (SET NX PX) with a new GUID token, then `LockReleaseAsync(key, token)`; no renewal, no waiting.";

    public async ValueTask<IAsyncDisposable?> TryAcquireAsync(string name, CancellationToken cancellationToken)
    {
        var key = (RedisKey)("lockbench:raw:" + name);
        var token = (RedisValue)Guid.NewGuid().ToString("N");
        return await _database.LockTakeAsync(key, token, timeToLive) ? new Handle(_database, key, token) : null;
    }

    public ValueTask<IAsyncDisposable?> AcquireAsync(string name, TimeSpan wait, CancellationToken cancellationToken) =>
        throw new NotSupportedException("StackExchange.Redis has no waiting lock.");

    private sealed class Handle(IDatabase database, RedisKey key, RedisValue token) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await database.LockReleaseAsync(key, token);
    }
}
