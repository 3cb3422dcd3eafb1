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
    /// The longest a waiter sleeps between two attempts without a release message (pub/sub is at most once: a
    /// message lost in a reconnect costs at most this much). Waiter records in Redis live for three of these.
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
