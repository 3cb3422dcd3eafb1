using StackExchange.Redis;

namespace Coordination.Core.Tests.Locks;

/// <summary>The lock result and exception types, and the parsing of what the scripts answer.</summary>
public class LockTypesTests
{
    [Fact]
    public void AcquireOutcome_Parse_EachAnswer()
    {
        var acquired = AcquireOutcome.Parse(Array(1, "tok", 42, 1_700_000_000_000, 2));
        var refused = AcquireOutcome.Parse(Array(0, 250, 3, "o1", "o2"));

        Assert.Equal((AcquireStatus.Acquired, "tok", 42L, 1_700_000_000_000L, 2), (acquired.Status, acquired.Token, acquired.FencingToken, acquired.ExpiresAtMilliseconds, acquired.Count));
        Assert.Equal((AcquireStatus.Refused, 250L, 3L), (refused.Status, refused.RetryAfterMilliseconds, refused.ArrivalNumber));
        Assert.Equal(["o1", "o2"], refused.Owners);
        Assert.False(acquired.CreatedCounter);
        var created = AcquireOutcome.Parse(Array(1, "tok", 1_795_668_000, 1_700_000_000_000, 1, 1));
        Assert.Equal((AcquireStatus.Acquired, 1_795_668_000L, true), (created.Status, created.FencingToken, created.CreatedCounter));
        Assert.Equal(AcquireStatus.UpgradeRefused, AcquireOutcome.Parse(Array(2)).Status);
        var unverified = AcquireOutcome.Parse(Array(5, "0123abcd"));
        Assert.Equal((AcquireStatus.Unverified, "0123abcd"), (unverified.Status, unverified.RunId));
        Assert.Equal(AcquireStatus.ReentryGone, AcquireOutcome.Parse(Array(3)).Status);
    }

    [Fact]
    public void LockInfo_SummarisesHolders()
    {
        var now = DateTimeOffset.UtcNow;
        var readers = new LockInfo("n", [Holder("r1", LockMode.Shared, 5, now.AddSeconds(1)), Holder("r2", LockMode.Shared, 6, now.AddSeconds(3))], 2, 6);
        var writer = new LockInfo("n", [Holder("r0", LockMode.Shared, 8, now), Holder("w", LockMode.Exclusive, 9, now.AddSeconds(2))], 0, 9);

        Assert.Equal((LockMode.Shared, "r1", 5L, now.AddSeconds(3), 2, 6L), (readers.Mode, readers.Owner, readers.FencingToken, readers.ExpiresAt, readers.Waiters, readers.LastFencingToken));
        Assert.Equal(TimeSpan.FromSeconds(6), readers.TimeToLive);
        Assert.Equal((LockMode.Exclusive, "w", 9L, "n"), (writer.Mode, writer.Owner, writer.FencingToken, writer.Name));
    }

    [Fact]
    public void Exceptions_CarryNamesInPropertiesNotMessages()
    {
        var timeout = ExceptionFactory.LockTimeout("secret-name", TimeSpan.FromSeconds(2));
        var deadlock = ExceptionFactory.Deadlock([new LockWait("o1", "secret-a"), new LockWait("o2", "secret-b")]);
        var hierarchy = ExceptionFactory.HierarchyViolation("secret-low", 1, "secret-high", 5);
        var notHeld = ExceptionFactory.LockNotHeld("secret-name");
        var replicas = ExceptionFactory.ReplicasNotAcknowledged(2, 1);

        Assert.IsAssignableFrom<TimeoutException>(timeout);
        Assert.IsAssignableFrom<CoordinationException>(deadlock);
        Assert.IsAssignableFrom<CoordinationException>(hierarchy);
        Assert.IsAssignableFrom<CoordinationException>(notHeld);
        Assert.All(new Exception[] { timeout, deadlock, hierarchy, notHeld }, ex => Assert.DoesNotContain("secret", ex.Message, StringComparison.Ordinal));
        Assert.Equal(("secret-name", TimeSpan.FromSeconds(2)), (timeout.Name, timeout.WaitTimeout));
        Assert.Equal([new LockWait("o1", "secret-a"), new LockWait("o2", "secret-b")], deadlock.Cycle);
        Assert.Contains("2 owners", deadlock.Message, StringComparison.Ordinal);
        Assert.Equal(("secret-low", 1, "secret-high", 5), (hierarchy.Name, hierarchy.Level, hierarchy.HeldName, hierarchy.HeldLevel));
        Assert.Equal("secret-name", notHeld.Name);
        Assert.Equal(UnavailableReason.ReplicasNotAcknowledged, replicas.Reason);
        Assert.Contains("1 of 2", replicas.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LockLostEventArgs_CarriesWhatWasLost()
    {
        var args = new LockLostEventArgs("t", "n", "o", 7, LockLostReason.PrimaryChanged);

        Assert.Equal(("t", "n", "o", 7L, LockLostReason.PrimaryChanged), (args.Tenant, args.Name, args.Owner, args.FencingToken, args.Reason));
    }

    [Fact]
    public void Options_DocumentedDefaults()
    {
        var options = new LockManagerOptions();
        var lockOptions = new LockOptions();

        Assert.Equal(
            (TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), HierarchyViolationBehavior.Throw, 0.01, TimeSpan.FromMilliseconds(500), true, 16, TimeSpan.FromMilliseconds(250), true),
            (options.DefaultTimeToLive, options.DefaultWaitTimeout, options.HierarchyViolation, options.ClockDriftFactor, options.RecheckInterval, options.DeadlockDetection, options.MaxDeadlockCycleLength, options.ReplicaAcknowledgeTimeout, options.LoseLocksOnPrimaryChange));
        Assert.Equal((TimeSpan.FromDays(1), 1000, 100), (options.MaxWaitTimeout, options.MaxWaitersPerTenant, options.MaxWaitersPerLock));
        Assert.Equal("Coordination:Locks", LockManagerOptions.SectionName);
        Assert.Equal((null, null, false, false, null, null, 0), (lockOptions.TimeToLive, lockOptions.WaitTimeout, lockOptions.AutoRenew, lockOptions.Fair, lockOptions.Owner, lockOptions.Level, lockOptions.ReplicasToAcknowledge));
    }

    private static LockHolderInfo Holder(string owner, LockMode mode, long fence, DateTimeOffset expiresAt) =>
        new(owner, mode, fence, 1, expiresAt, TimeSpan.FromSeconds(fence));

    private static RedisResult Array(params object[] values) =>
        RedisResult.Create([.. values.Select(v => v is string s ? RedisResult.Create((RedisValue)s) : RedisResult.Create((RedisValue)Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)))]);
}
