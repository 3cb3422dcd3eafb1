using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Healthy when Redis answers quickly; Degraded when it answers slowly, the circuit is not closed, or calls are
/// served by the fallback (even though Redis does not answer then); otherwise Unhealthy when Redis does not answer.
/// </summary>
internal sealed class CoordinationHealthCheck(ICoordinationMonitor monitor, IOptions<CoordinationOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var status = await monitor.GetStatusAsync(cancellationToken);
        var data = new Dictionary<string, object>
        {
            ["latencyMs"] = status.LatencyMilliseconds ?? -1,
            ["connections"] = status.Pool.Size,
            ["connected"] = status.Pool.Connected,
            ["outstanding"] = status.Pool.Outstanding,
            ["circuit"] = status.Circuit.ToString(),
            ["fallbackActive"] = status.Fallback.Active,
        };

        // Checked first: while the fallback serves, Redis is down by definition, yet the service still works, and
        // an Unhealthy report would take every replica out of rotation exactly when the fallback is meant to carry it.
        if (status.Fallback.Active)
        {
            return HealthCheckResult.Degraded("Key/value calls are served by the PostgreSQL fallback.", data: data);
        }

        if (!status.Connected)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "Redis does not answer.", data: data);
        }

        if (status.Circuit != CircuitState.Closed)
        {
            return HealthCheckResult.Degraded($"The circuit to Redis is {status.Circuit}.", data: data);
        }

        if (status.LatencyMilliseconds > options.Value.Health.DegradedLatency.TotalMilliseconds)
        {
            return HealthCheckResult.Degraded($"Redis answers slowly ({status.LatencyMilliseconds} ms).", data: data);
        }

        return HealthCheckResult.Healthy("Redis answers.", data);
    }
}
