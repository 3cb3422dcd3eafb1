namespace Coordination;

/// <summary>Why Redis could not serve a call.</summary>
public enum UnavailableReason
{
    /// <summary>No connection to Redis could carry the call.</summary>
    ConnectionFailed,

    /// <summary>Redis did not answer in time.</summary>
    Timeout,

    /// <summary>The circuit breaker is open: the call was refused without reaching Redis.</summary>
    CircuitOpen,

    /// <summary>Redis answered with an error that means it cannot serve now (loading, read-only replica, busy script).</summary>
    ServerUnavailable,

    /// <summary>A write was applied on the primary but fewer replicas than asked for acknowledged it in time; it was undone.</summary>
    ReplicasNotAcknowledged,

    /// <summary>
    /// Redis refused a write because it is at its memory limit (<c>maxmemory</c> with the <c>noeviction</c> policy).
    /// Reads still work; writes fail until memory is freed. Not counted by the circuit breaker and not served by the
    /// PostgreSQL fallback: Redis is up, and an operator must act.
    /// </summary>
    OutOfMemory,
}
