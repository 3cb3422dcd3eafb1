using System.Collections.Concurrent;
using Medallion.Threading.Redis;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>DistributedLock.Redis's <c>RedisDistributedLock</c> on one database.</summary>
internal sealed class DistributedLockClient(IConnectionMultiplexer multiplexer, TimeSpan timeToLive, (TimeSpan Min, TimeSpan Max)? busyWait) : ILockClient
{
    private readonly IDatabase _database = multiplexer.GetDatabase();
    private readonly ConcurrentDictionary<string, RedisDistributedLock> _locks = new(StringComparer.Ordinal);
    private readonly Action<RedisDistributedSynchronizationOptionsBuilder> _options = options =>
    {
        options.Expiry(timeToLive);
        if (busyWait is { } range)
        {
            options.BusyWaitSleepTime(range.Min, range.Max);
        }
    };

    public string Name => busyWait is null ? "DistributedLock.Redis" : "DistributedLock.Redis (tuned)";

    public string Description => busyWait is { } range
        ? $"as above, busy-wait sleep {range.Min.TotalMilliseconds:0}–{range.Max.TotalMilliseconds:0} ms instead of the default 10–800 ms."
        : $"`new RedisDistributedLock(key, database, o => o.Expiry({timeToLive.TotalSeconds:0} s))` (one per name, reused), `TryAcquireAsync(TimeSpan.Zero)` / " +
          "`AcquireAsync(wait)` (SET NX PX; waiting polls with a random busy-wait sleep, default 10–800 ms), auto-extension at its default cadence, " +
          "`DisposeAsync` to release (Lua compare-and-delete).";

    public async ValueTask<IAsyncDisposable?> TryAcquireAsync(string name, CancellationToken cancellationToken) =>
        await Lock(name).TryAcquireAsync(TimeSpan.Zero, cancellationToken);

    public async ValueTask<IAsyncDisposable?> AcquireAsync(string name, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            return await Lock(name).AcquireAsync(wait, cancellationToken);
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private RedisDistributedLock Lock(string name) =>
        _locks.GetOrAdd(name, static (n, self) => new RedisDistributedLock("lockbench:dl:" + n, self._database, self._options), this);
}
