namespace Coordination;

/// <summary>
/// State changes of the platform's link to Redis, raised in process. Handlers run synchronously on the thread
/// that saw the change, so they must be quick and must not throw (exceptions are logged and swallowed).
/// Every event is also logged and counted in the <c>coordination.events</c> metric.
/// </summary>
public interface ICoordinationEvents
{
    /// <summary>A pooled connection lost its link to Redis.</summary>
    event EventHandler<ConnectionEventArgs>? ConnectionLost;

    /// <summary>A pooled connection got its link to Redis back.</summary>
    event EventHandler<ConnectionEventArgs>? ConnectionRestored;

    /// <summary>The circuit breaker opened: calls now fail fast.</summary>
    event EventHandler<CircuitEventArgs>? CircuitOpened;

    /// <summary>The circuit breaker closed: calls flow to Redis again.</summary>
    event EventHandler<CircuitEventArgs>? CircuitClosed;

    /// <summary>Key/value calls started to be served by the PostgreSQL fallback store.</summary>
    event EventHandler<FallbackEventArgs>? FallbackEngaged;

    /// <summary>Writes made during the fallback were replayed to Redis and calls are served by Redis again.</summary>
    event EventHandler<FallbackEventArgs>? FallbackRecovered;

    /// <summary>
    /// A lock this process held through a handle is known to be lost before its holder released it: a renewal was
    /// refused, the local validity ran out without a renewal reaching Redis, or the Redis primary changed. The
    /// handle's <see cref="ILockHandle.HandleLost"/> is cancelled at the same moment. A lock that simply reached the
    /// time to live it was taken for (without renewal) is not reported here.
    /// </summary>
    event EventHandler<LockLostEventArgs>? LockLost;
}
