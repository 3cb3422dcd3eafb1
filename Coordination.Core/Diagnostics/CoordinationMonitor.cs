using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Coordination;

internal sealed class CoordinationMonitor(RedisExecutor executor, KeyValueFallback fallback, IOptions<CoordinationOptions> options) : ICoordinationMonitor
{
    public async Task<CoordinationStatus> GetStatusAsync(CancellationToken cancellationToken = default)
    {
        double? latency = null;
        try
        {
            var roundTrip = await executor.Pool.PingAsync(options.Value.Health.ProbeTimeout, cancellationToken);
            latency = Math.Round(roundTrip.TotalMilliseconds, 3);
        }
        catch (Exception ex) when (ex is TimeoutException or RedisException or CoordinationUnavailableException)
        {
            // Reported as not connected.
        }

        return new CoordinationStatus(
            latency is not null,
            latency,
            executor.Pool.GetStatus(),
            executor.CircuitState,
            new FallbackStatus(fallback.IsConfigured, fallback.IsReady, fallback.IsActive, fallback.MirrorBacklog)
            {
                MirrorBehind = fallback.MirrorBehind,
                MirrorDroppedWrites = fallback.MirrorDroppedWrites,
                Repair = fallback.RepairStatus,
            });
    }
}
