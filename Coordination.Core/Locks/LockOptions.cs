namespace Coordination;

/// <summary>How one lock, read lock or semaphore permit is taken. Every property is optional.</summary>
/// <remarks>An instance may be shared by many calls as long as nobody changes it meanwhile.</remarks>
public sealed class LockOptions
{
    /// <summary>
    /// How long the hold lasts in Redis unless renewed or released (1 ms to 30 days; at least 100 ms with
    /// <see cref="AutoRenew"/>). Nothing can keep a lock beyond it: a holder that crashes frees it by this time.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: <see cref="LockManagerOptions.DefaultTimeToLive"/>.</value>
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>
    /// How long to wait for the lock: <see cref="TimeSpan.Zero"/> tries once, <see cref="Timeout.InfiniteTimeSpan"/>
    /// waits until the cancellation token fires; no wait is longer than <see cref="LockManagerOptions.MaxWaitTimeout"/>.
    /// Waiters wake when the holder releases (pub/sub), when the blocking hold expires, and re-check on their own after
    /// <see cref="LockManagerOptions.RecheckInterval"/> (up to twice that while nothing happens). A call that would
    /// wait beyond <see cref="LockManagerOptions.MaxWaitersPerTenant"/> or <see cref="LockManagerOptions.MaxWaitersPerLock"/>
    /// throws <see cref="LockWaitersExceededException"/>.
    /// </summary>
    /// <value>
    /// The default value is <see langword="null"/>: <see cref="LockManagerOptions.DefaultWaitTimeout"/> for the
    /// <c>Acquire*</c> methods, no wait for the <c>TryAcquire*</c> methods.
    /// </value>
    public TimeSpan? WaitTimeout { get; set; }

    /// <summary>
    /// Whether a watchdog renews the hold (every third of its time to live) until it is released. A renewal Redis
    /// refuses cancels <see cref="ILockHandle.HandleLost"/> and raises <see cref="ICoordinationEvents.LockLost"/>; a
    /// renewal that cannot reach Redis is retried, and the hold is reported lost only when its validity runs out.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool AutoRenew { get; set; }

    /// <summary>
    /// Whether the caller queues first-in first-out behind the fair waiters that came before it (readers still
    /// share with readers ahead of them). Callers that do not ask for fairness may overtake the queue.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool Fair { get; set; }

    /// <summary>
    /// The owner the lock is taken for (1..512 UTF-8 bytes, no control characters). Holds of the same named owner
    /// re-enter each other, across processes, and count as one owner for deadlock detection and the hierarchy.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: the calling async flow is the owner.</value>
    public string? Owner { get; set; }

    /// <summary>
    /// With <see cref="Owner"/>: the token of the hold of that owner this call may re-enter. When set, a hold of
    /// <see cref="Owner"/> with any other token is not re-entered: it blocks the call like another owner's hold
    /// (the call waits as asked, then returns <see langword="null"/> or throws <see cref="LockTimeoutException"/>),
    /// and neither its token nor its fencing token is returned. The check and the acquisition are one Redis script,
    /// so a hold that changes hands meanwhile cannot be re-entered without its token. An empty string re-enters no
    /// hold. Ignored without <see cref="Owner"/>. The HTTP API sets it, so a client naming another's owner gets nothing.
    /// </summary>
    /// <value>The default value is <see langword="null"/>: any hold of <see cref="Owner"/> is re-entered.</value>
    public string? ReentryToken { get; set; }

    /// <summary>
    /// The lock's level in the lock hierarchy: taking it while the owner holds a lock of the same or a higher level
    /// raises <see cref="LockHierarchyViolationException"/> (or logs, see <see cref="LockManagerOptions.HierarchyViolation"/>).
    /// Locks without a level take no part in the hierarchy.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public int? Level { get; set; }

    /// <summary>
    /// How many replicas must acknowledge the acquisition (Redis <c>WAIT</c>) before it counts (0..16). When fewer do
    /// within <see cref="LockManagerOptions.ReplicaAcknowledgeTimeout"/> the hold is released again and the call throws
    /// <see cref="CoordinationUnavailableException"/> with <see cref="UnavailableReason.ReplicasNotAcknowledged"/>.
    /// </summary>
    /// <value>The default value is 0: the primary's answer is enough.</value>
    public int ReplicasToAcknowledge { get; set; }
}
