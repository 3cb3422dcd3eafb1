using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>Observable instruments for the state of the pool, the circuit and the fallback.</summary>
internal sealed class CoordinationGauges
{
    public CoordinationGauges(CoordinationMetrics metrics, RedisExecutor executor, KeyValueFallback fallback)
    {
        var meter = metrics.Meter;
        var pool = executor.Pool;
        meter.CreateObservableGauge("coordination.pool.connections", () => new[]
        {
            new Measurement<int>(pool.Size, new KeyValuePair<string, object?>("coordination.connection.state", "open")),
            new Measurement<int>(pool.ConnectedCount, new KeyValuePair<string, object?>("coordination.connection.state", "connected")),
        }, "{connection}", "Connections in the Redis pool.");
        meter.CreateObservableGauge("coordination.pool.outstanding", () => pool.Outstanding, "{operation}", "Redis operations in flight across the pool.");
        meter.CreateObservableGauge("coordination.circuit.state", () => (int)executor.CircuitState, "{state}", "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated.");
        meter.CreateObservableGauge("coordination.fallback.active", () => fallback.IsActive ? 1 : 0, "{state}", "1 while key/value calls are served by the PostgreSQL fallback.");
        meter.CreateObservableGauge("coordination.fallback.mirror.backlog", () => fallback.MirrorBacklog, "{write}", "Writes waiting to be copied to PostgreSQL.");
    }
}
