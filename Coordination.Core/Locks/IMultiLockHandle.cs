namespace Coordination;

/// <summary>A set of exclusive locks taken all or none (<see cref="IDistributedLockManager.AcquireAllAsync"/>). Dispose it to release them all.</summary>
public interface IMultiLockHandle : IAsyncDisposable
{
    /// <summary>The handles of the locks, in the canonical order they were taken.</summary>
    IReadOnlyList<ILockHandle> Locks { get; }

    /// <summary>Cancelled the moment any lock of the set is known to be lost.</summary>
    CancellationToken HandleLost { get; }

    /// <summary>Restarts the time to live of every lock of the set.</summary>
    /// <param name="timeToLive">The new time to live; <see langword="null"/> keeps each lock's current one.</param>
    /// <param name="cancellationToken">Cancels the wait for the answers.</param>
    /// <exception cref="LockNotHeldException">A lock of the set is lost.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask ExtendAsync(TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>Releases every lock of the set, in reverse order. Does nothing when already released.</summary>
    /// <param name="cancellationToken">Cancels the wait for the answers.</param>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable for at least one lock (the others are still released).</exception>
    ValueTask ReleaseAsync(CancellationToken cancellationToken = default);
}
