namespace Coordination;

/// <summary>Shorthands for the common calls of <see cref="IDistributedLockManager"/>.</summary>
public static class DistributedLockManagerExtensions
{
    /// <summary>
    /// Takes the exclusive lock <paramref name="name"/> if it can within <paramref name="waitTimeout"/>, with the
    /// default time to live; returns <see langword="null"/> when it cannot.
    /// </summary>
    /// <param name="locks">The lock manager.</param>
    /// <param name="name">The lock name.</param>
    /// <param name="waitTimeout">How long to wait: <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/> waits until acquired or canceled.</param>
    /// <param name="cancellationToken">Cancels the wait; a lock acquired meanwhile is released again.</param>
    /// <returns>The handle, or <see langword="null"/> when the lock was not acquired in time.</returns>
    /// <inheritdoc cref="IDistributedLockManager.TryAcquireAsync" path="/exception"/>
    public static ValueTask<ILockHandle?> TryAcquireAsync(this IDistributedLockManager locks, string name, TimeSpan waitTimeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(locks);
        return locks.TryAcquireAsync(name, new LockOptions { WaitTimeout = waitTimeout }, cancellationToken);
    }
}
