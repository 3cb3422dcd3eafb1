namespace Coordination;

/// <summary>Reports the state of the link to Redis and of the fallback, for health checks and status pages. Thread-safe.</summary>
public interface ICoordinationMonitor
{
    /// <summary>Takes a snapshot, measuring the PING round trip on the least-loaded connection (bounded by <see cref="HealthOptions.ProbeTimeout"/>).</summary>
    Task<CoordinationStatus> GetStatusAsync(CancellationToken cancellationToken = default);
}
