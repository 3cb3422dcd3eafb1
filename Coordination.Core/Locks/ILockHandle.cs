namespace Coordination;

/// <summary>
/// A held lock, read lock or semaphore permit. Dispose it to release (disposing twice, or after
/// <see cref="ReleaseAsync"/>, does nothing). Thread-safe.
/// </summary>
/// <remarks>
/// Watch <see cref="HandleLost"/> in the critical section: it is cancelled the moment the hold is known to be lost
/// (a renewal was refused, the local validity estimate ran out without a renewal, the Redis primary changed, or the
/// time to live passed). Pass <see cref="FencingToken"/> to the resource you protect so it can refuse a stale holder
/// (see <see cref="FencedUpdate"/>).
/// </remarks>
public interface ILockHandle : IAsyncDisposable
{
    /// <summary>The lock (or semaphore) name.</summary>
    string Name { get; }

    /// <summary>The hold's secret token: what extends and releases it (<see cref="IDistributedLockManager.ExtendAsync"/>). Re-entries share it.</summary>
    string Token { get; }

    /// <summary>The owner the hold was taken for (<see cref="LockOptions.Owner"/>, or the id of the calling async flow).</summary>
    string Owner { get; }

    /// <summary>
    /// A number Redis issued when the hold was taken, strictly greater than every number issued before for the same
    /// name (re-entries share it). A resource that stores the highest token it has seen can refuse older ones.
    /// </summary>
    long FencingToken { get; }

    /// <summary>When the hold expires in Redis unless renewed (server time, as of the last acquire, renewal or extension).</summary>
    DateTimeOffset ExpiresAt { get; }

    /// <summary>Cancelled the moment the hold is known to be lost. Never cancelled by a release.</summary>
    CancellationToken HandleLost { get; }

    /// <summary>Restarts the hold's time to live (server time); the renewal watchdog, when on, uses the new time to live from then on.</summary>
    /// <param name="timeToLive">The new time to live from now; <see langword="null"/> keeps the current one.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <returns>When the hold now expires.</returns>
    /// <exception cref="LockNotHeldException">The hold is lost or was released.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<DateTimeOffset> ExtendAsync(TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases this handle's count of the hold (the lock is free once every re-entry is released) and wakes the
    /// waiters. Does nothing when already released; does not throw when the hold was lost meanwhile.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <exception cref="CoordinationUnavailableException">
    /// Redis is unavailable: the renewal stops and the lock expires with its time to live. <see cref="IAsyncDisposable.DisposeAsync"/>
    /// logs this instead of throwing.
    /// </exception>
    ValueTask ReleaseAsync(CancellationToken cancellationToken = default);
}
