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

    /// <summary>
    /// A <see cref="KeyValueDurability.Synchronous"/> write could not be confirmed durable: no PostgreSQL fallback store
    /// is configured (nothing was written), or PostgreSQL did not commit the copy within
    /// <see cref="FallbackOptions.SynchronousTimeout"/> (Redis has the write and its copy stays queued, so it may still
    /// take effect; retrying the same write is safe).
    /// </summary>
    DurableCopyNotConfirmed,
}
