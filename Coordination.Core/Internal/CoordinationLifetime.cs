using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// Opens the pool and the fallback at start; at stop releases the locks this process holds (stopping their
/// renewal), drops the lock release subscription, flushes writes queued for PostgreSQL and closes the connections,
/// in that order.
/// </summary>
internal sealed class CoordinationLifetime(
    RedisConnectionPool pool,
    KeyValueFallback fallback,
    CoordinatorFactory coordinators,
    LockRuntime locks,
    CoordinationGauges gauges,
    ILogger<CoordinationLifetime> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        // Taking the gauges as a dependency is what creates them; nothing else asks for them.
        GC.KeepAlive(gauges);
        await pool.StartAsync(cancellationToken);
        await fallback.StartAsync();
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        var notReleased = 0;
        foreach (var coordinator in coordinators.All)
        {
            notReleased += await coordinator.ReleaseAllAsync(cancellationToken);
        }

        if (notReleased > 0)
        {
            CoordinationLog.LocksNotReleasedAtShutdown(logger, notReleased, null);
        }

        await locks.DisposeAsync();
        await fallback.DisposeAsync();
        await pool.DisposeAsync();
    }
}
