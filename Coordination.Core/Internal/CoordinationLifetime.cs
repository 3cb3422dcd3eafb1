using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// Opens the pool and the fallback at start. At stop, in this order: stops the repair after a data loss, releases the locks this process holds
/// (stopping their renewal), stops the cache backplane, drops the lock release subscription, flushes writes queued
/// for PostgreSQL and closes the connections: each step still needs the ones after it.
/// </summary>
internal sealed class CoordinationLifetime(
    RedisConnectionPool pool,
    KeyValueFallback fallback,
    CoordinatorFactory coordinators,
    LockRuntime locks,
    CacheRuntime caches,
    ILogger<CoordinationLifetime> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await pool.StartAsync(cancellationToken);
        await fallback.StartAsync();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // The repair's reload holds a platform lock: stopped (and the lock released) while the lock runtime still runs.
        await fallback.StopRepairAsync();
        var notReleased = 0;
        foreach (var coordinator in coordinators.All)
        {
            notReleased += await coordinator.ReleaseAllAsync(cancellationToken);
        }

        notReleased += await locks.ReleaseAllAsync(cancellationToken);
        if (notReleased > 0)
        {
            LocksLog.LocksNotReleasedAtShutdown(logger, notReleased, null);
        }

        await caches.DisposeAsync();
        await locks.DisposeAsync();
        await fallback.DisposeAsync();
        await pool.DisposeAsync();
    }
}
