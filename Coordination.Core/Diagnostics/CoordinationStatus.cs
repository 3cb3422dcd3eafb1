namespace Coordination;

/// <summary>A snapshot of the platform's link to Redis. Holds no keys, tenants or secrets.</summary>
/// <param name="Connected">Whether a PING through the pool succeeded.</param>
/// <param name="LatencyMilliseconds">The PING round trip, when it succeeded.</param>
/// <param name="Pool">The connection pool.</param>
/// <param name="Circuit">The circuit breaker's state.</param>
/// <param name="Fallback">The PostgreSQL fallback.</param>
public sealed record CoordinationStatus(
    bool Connected,
    double? LatencyMilliseconds,
    ConnectionPoolStatus Pool,
    CircuitState Circuit,
    FallbackStatus Fallback);
