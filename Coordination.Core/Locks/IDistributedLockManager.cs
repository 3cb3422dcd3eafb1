namespace Coordination;

/// <summary>
/// Distributed locks on Redis for one tenant: exclusive locks, read/write locks and counting semaphores, with owner
/// tokens, fencing tokens, a time to live on every hold, optional renewal, waiting that wakes on release, FIFO
/// fairness, re-entrancy, deadlock detection across processes and lock hierarchies. Thread-safe; resolve it from
/// dependency injection (<see cref="IRedisCoordinator.Locks"/> gives the one of each tenant).
/// </summary>
/// <remarks>
/// <para>
/// Contention is not exceptional: the <c>TryAcquire*</c> methods return <see langword="null"/> when the lock is not
/// acquired within <see cref="LockOptions.WaitTimeout"/>; the <c>Acquire*</c> methods throw
/// <see cref="LockTimeoutException"/>. Locks fail closed: while Redis is unavailable every call throws
/// <see cref="CoordinationUnavailableException"/>, never falling back to a local or PostgreSQL lock. Waiting is
/// bounded: a call that would wait while the tenant or the lock already has its most waiters throws
/// <see cref="LockWaitersExceededException"/> (both kinds of methods).
/// </para>
/// <para>
/// The owner of a lock is <see cref="LockOptions.Owner"/> when given; otherwise it is the calling async flow: a
/// lock taken again in the same flow while it is held is re-entered (counted, same token and fencing token),
/// and the flows started while it is held (child tasks) act as the same owner for deadlock detection and the
/// lock hierarchy, but never re-enter a lock another flow took. A lock taken inside an async helper method belongs
/// to that method's flow; pass an explicit owner to share ownership across flows or processes.
/// </para>
/// <para>
/// An exclusive lock and the write side of a read/write lock of the same name are the same lock. Semaphores have
/// their own names. Names are 1..512 UTF-8 bytes without control characters.
/// </para>
/// </remarks>
public interface IDistributedLockManager
{
    /// <summary>The tenant whose locks this manager takes.</summary>
    string Tenant { get; }

    /// <summary>Takes the exclusive lock <paramref name="name"/>, waiting up to <see cref="LockOptions.WaitTimeout"/> (default <see cref="LockManagerOptions.DefaultWaitTimeout"/>).</summary>
    /// <param name="name">The lock name.</param>
    /// <param name="options">Time to live, wait, renewal, fairness, owner, level; <see langword="null"/> for the defaults.</param>
    /// <param name="cancellationToken">Cancels the wait; a lock acquired meanwhile is released again.</param>
    /// <returns>The handle; dispose it (or call <see cref="ILockHandle.ReleaseAsync"/>) to release the lock.</returns>
    /// <exception cref="ArgumentException">The name or an option is invalid.</exception>
    /// <exception cref="LockTimeoutException">The lock was not acquired within the wait timeout.</exception>
    /// <exception cref="LockRecursionException">The owner holds the read side of this lock (upgrading a read lock to the write lock is refused: release the read lock first).</exception>
    /// <exception cref="DeadlockDetectedException">Waiting would close a cycle of owners waiting for each other.</exception>
    /// <exception cref="LockHierarchyViolationException">The lock's level is not above every level the owner holds (when configured to throw).</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable (locks fail closed).</exception>
    ValueTask<ILockHandle> AcquireAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the exclusive lock <paramref name="name"/> if it can within <see cref="LockOptions.WaitTimeout"/>
    /// (default: no wait). Returns <see langword="null"/> when it cannot.
    /// </summary>
    /// <inheritdoc cref="AcquireAsync" path="/param"/>
    /// <exception cref="ArgumentException">The name or an option is invalid.</exception>
    /// <exception cref="DeadlockDetectedException">Waiting would close a cycle of owners waiting for each other.</exception>
    /// <exception cref="LockHierarchyViolationException">The lock's level is not above every level the owner holds (when configured to throw).</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable (locks fail closed).</exception>
    /// <exception cref="LockRecursionException">The owner holds the read side of this lock (upgrading a read lock to the write lock is refused: release the read lock first).</exception>
    ValueTask<ILockHandle?> TryAcquireAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Takes the read (shared) side of the read/write lock <paramref name="name"/>: any number of readers, no writer.</summary>
    /// <inheritdoc cref="AcquireAsync" path="/param"/>
    /// <inheritdoc cref="AcquireAsync" path="/returns"/>
    /// <inheritdoc cref="AcquireAsync" path="/exception[not(contains(@cref, 'LockRecursionException'))]"/>
    /// <remarks>Readers are admitted while no writer holds the lock; a writer waits until every reader is gone (use <see cref="LockOptions.Fair"/> on both sides to stop readers from overtaking a waiting writer).</remarks>
    ValueTask<ILockHandle> AcquireReadAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Takes the read side of the read/write lock <paramref name="name"/> if it can within the wait timeout (default: no wait).</summary>
    /// <inheritdoc cref="TryAcquireAsync" path="/param"/>
    /// <inheritdoc cref="TryAcquireAsync" path="/exception[not(contains(@cref, 'LockRecursionException'))]"/>
    /// <returns>The handle, or <see langword="null"/> when the lock was not acquired in time.</returns>
    ValueTask<ILockHandle?> TryAcquireReadAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes one of the <paramref name="permits"/> permits of the counting semaphore <paramref name="name"/>. Each
    /// permit is a lease with its own time to live (and renewal), so a crashed holder's permit comes back by itself.
    /// </summary>
    /// <param name="name">The semaphore name.</param>
    /// <param name="permits">How many holders the semaphore admits at once (1..10000). Every user of the name must pass the same number.</param>
    /// <param name="options">As for locks; semaphores are never re-entered (each call takes another permit) and take no part in deadlock detection.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The handle of the permit.</returns>
    /// <inheritdoc cref="AcquireAsync" path="/exception[not(contains(@cref, 'LockRecursionException'))]"/>
    ValueTask<ILockHandle> AcquireSemaphoreAsync(string name, int permits, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Takes a permit of the semaphore <paramref name="name"/> if it can within the wait timeout (default: no wait).</summary>
    /// <inheritdoc cref="AcquireSemaphoreAsync" path="/param"/>
    /// <returns>The handle of the permit, or <see langword="null"/> when none was free in time.</returns>
    /// <inheritdoc cref="TryAcquireAsync" path="/exception[not(contains(@cref, 'LockRecursionException'))]"/>
    ValueTask<ILockHandle?> TryAcquireSemaphoreAsync(string name, int permits, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the exclusive locks <paramref name="names"/> all or none: in one canonical order (ordinal, duplicates
    /// removed), so two callers asking for overlapping sets can never deadlock each other. The wait timeout covers
    /// the whole set; when one lock cannot be taken, those already taken are released.
    /// </summary>
    /// <param name="names">The lock names (at least one).</param>
    /// <param name="options">Applied to every lock of the set (a level applies to each; they do not need to be above each other).</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The handle of the set, its locks in canonical order.</returns>
    /// <inheritdoc cref="AcquireAsync" path="/exception"/>
    ValueTask<IMultiLockHandle> AcquireAllAsync(IEnumerable<string> names, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Takes the exclusive locks <paramref name="names"/> all or none, if it can within the wait timeout (default: no wait).</summary>
    /// <inheritdoc cref="AcquireAllAsync" path="/param"/>
    /// <returns>The handle of the set, or <see langword="null"/> when not every lock was acquired in time (none is held then).</returns>
    /// <inheritdoc cref="TryAcquireAsync" path="/exception"/>
    ValueTask<IMultiLockHandle?> TryAcquireAllAsync(IEnumerable<string> names, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes the exclusive lock <paramref name="name"/> for a holder outside this process (for example a client of
    /// the HTTP API): nothing in this process tracks, renews or releases it; the holder extends and releases it by
    /// token (<see cref="ExtendAsync"/>, <see cref="ReleaseAsync"/>), from any process, or lets it expire.
    /// </summary>
    /// <param name="name">The lock name.</param>
    /// <param name="options">
    /// Time to live, wait (default: no wait), fairness, replicas and owner. With an explicit <see cref="LockOptions.Owner"/>
    /// a second lease for the same owner re-enters the first (same token, counted); without one every lease is its
    /// own owner. <see cref="LockOptions.AutoRenew"/> and <see cref="LockOptions.Level"/> do not apply to leases.
    /// </param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>The lease, or <see langword="null"/> when the lock was not acquired in time.</returns>
    /// <inheritdoc cref="TryAcquireAsync" path="/exception"/>
    ValueTask<LockLease?> TryAcquireLeaseAsync(string name, LockOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Restarts the time to live of the hold <paramref name="token"/> on the lock <paramref name="name"/> (server time).</summary>
    /// <param name="name">The lock name.</param>
    /// <param name="token">The holder's token.</param>
    /// <param name="timeToLive">The new time to live from now (1 ms to 30 days).</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <returns>When the hold now expires.</returns>
    /// <exception cref="ArgumentException">The name or the time to live is invalid.</exception>
    /// <exception cref="LockNotHeldException">The token holds nothing on this lock (expired, released, or never).</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<DateTimeOffset> ExtendAsync(string name, string token, TimeSpan timeToLive, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases one count of the hold <paramref name="token"/> on the lock <paramref name="name"/> (the lock is free
    /// once every re-entry is released). Waiters are woken at once.
    /// </summary>
    /// <param name="name">The lock name.</param>
    /// <param name="token">The holder's token.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="LockNotHeldException">The token holds nothing on this lock; nothing changed (another holder's lock stays intact).</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable; the lock expires with its time to live.</exception>
    ValueTask ReleaseAsync(string name, string token, CancellationToken cancellationToken = default);

    /// <summary>Reads who holds the lock <paramref name="name"/> (exclusive or read/write) right now.</summary>
    /// <param name="name">The lock name.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <returns>The holders (never their tokens), or <see langword="null"/> when nobody holds the lock.</returns>
    /// <exception cref="ArgumentException">The name is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<LockInfo?> GetInfoAsync(string name, CancellationToken cancellationToken = default);
}
