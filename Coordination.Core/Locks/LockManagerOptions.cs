using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>Distributed lock settings (section <c>Coordination:Locks</c>).</summary>
public sealed class LockManagerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Locks";

    /// <summary>The time to live of a hold when <see cref="LockOptions.TimeToLive"/> is not given.</summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "30.00:00:00")]
    public TimeSpan DefaultTimeToLive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the <c>Acquire*</c> methods wait when <see cref="LockOptions.WaitTimeout"/> is not given.</summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan DefaultWaitTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The longest any one acquisition waits. A longer <see cref="LockOptions.WaitTimeout"/> (also
    /// <see cref="Timeout.InfiniteTimeSpan"/>) is cut to this: the wait then runs out like any other (<see langword="null"/>
    /// or <see cref="LockTimeoutException"/>). <see cref="DefaultWaitTimeout"/> may not be above it.
    /// </summary>
    /// <value>The default value is 1 day.</value>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan MaxWaitTimeout { get; set; } = TimeSpan.FromDays(1);

    /// <summary>
    /// The most callers of one tenant that may wait for its locks at the same time (all locks and semaphores of the
    /// tenant, all processes). A caller that would wait beyond it gets <see cref="LockWaitersExceededException"/>
    /// (<see cref="LockWaiterLimit.Tenant"/>). Waiters that crashed stop counting when their lease ends.
    /// </summary>
    /// <value>The default value is 1000.</value>
    [Range(1, 1_000_000)]
    public int MaxWaitersPerTenant { get; set; } = 1000;

    /// <summary>
    /// The most callers that may wait for one lock (or semaphore) at the same time, across processes. A caller that
    /// would wait beyond it gets <see cref="LockWaitersExceededException"/> (<see cref="LockWaiterLimit.Lock"/>).
    /// </summary>
    /// <value>The default value is 100.</value>
    [Range(1, 100_000)]
    public int MaxWaitersPerLock { get; set; } = 100;

    /// <summary>What taking a lock whose level is not above every level its owner holds does.</summary>
    /// <value>The default value is <see cref="HierarchyViolationBehavior.Throw"/>.</value>
    public HierarchyViolationBehavior HierarchyViolation { get; set; } = HierarchyViolationBehavior.Throw;

    /// <summary>
    /// The share of a hold's time to live by which the local validity estimate stays short of it, for clock drift
    /// between this process and Redis (2 ms are always added). A hold is reported lost when its time to live, minus
    /// this margin, has passed on the local monotonic clock since the last acquire or renewal was sent.
    /// </summary>
    /// <value>The default value is 0.01.</value>
    [Range(0.0, 0.5)]
    public double ClockDriftFactor { get; set; } = 0.01;

    /// <summary>
    /// How long a waiter sleeps between two attempts without a release message (pub/sub is at most once: a message
    /// lost in a reconnect costs at most twice this much). A waiter that sleeps it through without a message doubles
    /// its next sleep, up to twice this, so idle waiters cost Redis half as much; a release message wakes a waiter at
    /// once whatever its sleep. Waiter records in Redis live for four of these plus one attempt timeout.
    /// </summary>
    /// <value>The default value is 500 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Whether waiters record the wait-for graph in Redis so that a wait closing a cycle fails with <see cref="DeadlockDetectedException"/>.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool DeadlockDetection { get; set; } = true;

    /// <summary>The longest cycle (in owners) the deadlock search follows.</summary>
    /// <value>The default value is 16.</value>
    [Range(2, 256)]
    public int MaxDeadlockCycleLength { get; set; } = 16;

    /// <summary>
    /// How long an acquisition with <see cref="LockOptions.ReplicasToAcknowledge"/> waits for the replicas. <c>WAIT</c>
    /// is a command like any other, so it is capped at half of <see cref="ResilienceOptions.AttemptTimeout"/> (a longer
    /// wait would end as a timeout of the acquisition rather than as too few acknowledgements).
    /// </summary>
    /// <value>The default value is 250 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan ReplicaAcknowledgeTimeout { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Whether every hold of this process is reported lost when the client sees the Redis primary change (a
    /// failover, or a restart: a new run id). Replication is asynchronous, so a new primary may not know the hold.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool LoseLocksOnPrimaryChange { get; set; } = true;
}
