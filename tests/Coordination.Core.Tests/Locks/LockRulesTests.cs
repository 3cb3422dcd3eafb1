namespace Coordination.Core.Tests.Locks;

public class LockRulesTests
{
    private static readonly LockManagerOptions Defaults = new();

    [Fact]
    public void Resolve_NoOptions_TakesDefaults()
    {
        var settings = LockRules.Resolve(null, Defaults, TimeSpan.FromSeconds(7));

        Assert.Equal(new LockSettings(TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(7), false, false, null, null, 0), settings);
        Assert.True(settings.Waits);
        Assert.False(LockRules.Resolve(null, Defaults, TimeSpan.Zero).Waits);
    }

    [Fact]
    public void Resolve_EveryOption_CarriedOver()
    {
        var options = new LockOptions
        {
            TimeToLive = TimeSpan.FromSeconds(2),
            WaitTimeout = TimeSpan.FromHours(3),
            AutoRenew = true,
            Fair = true,
            Owner = "svc-1",
            Level = 3,
            ReplicasToAcknowledge = 2,
        };

        var settings = LockRules.Resolve(options, Defaults, TimeSpan.Zero);

        Assert.Equal(new LockSettings(TimeSpan.FromSeconds(2), TimeSpan.FromHours(3), true, true, "svc-1", 3, 2), settings);
    }

    public static TheoryData<LockOptions> InvalidOptions => new()
    {
        new LockOptions { TimeToLive = TimeSpan.Zero },
        new LockOptions { TimeToLive = TimeSpan.FromDays(31) },
        new LockOptions { TimeToLive = TimeSpan.FromMilliseconds(99), AutoRenew = true },
        new LockOptions { WaitTimeout = TimeSpan.FromMilliseconds(-5) },
        new LockOptions { Owner = string.Empty },
        new LockOptions { Owner = "bad\nowner" },
        new LockOptions { Owner = new string('o', 513) },
        new LockOptions { ReplicasToAcknowledge = -1 },
        new LockOptions { ReplicasToAcknowledge = 17 },
    };

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Resolve_InvalidOption_ThrowsNamingOptions(LockOptions options)
    {
        var ex = Assert.ThrowsAny<ArgumentException>(() => LockRules.Resolve(options, Defaults, TimeSpan.Zero));

        Assert.Equal("options", ex.ParamName);
    }

    [Fact]
    public void Resolve_BoundaryValues_Accepted()
    {
        LockRules.Resolve(new LockOptions { TimeToLive = TimeSpan.FromMilliseconds(1) }, Defaults, TimeSpan.Zero);
        LockRules.Resolve(new LockOptions { TimeToLive = TimeSpan.FromDays(30), WaitTimeout = TimeSpan.Zero }, Defaults, TimeSpan.Zero);
        LockRules.Resolve(new LockOptions { TimeToLive = TimeSpan.FromMilliseconds(100), AutoRenew = true }, Defaults, TimeSpan.Zero);
        LockRules.Resolve(new LockOptions { ReplicasToAcknowledge = 16, Owner = new string('o', 512) }, Defaults, TimeSpan.Zero);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(10_001)]
    [InlineData(-3)]
    public void ValidatePermits_OutOfRange_Throws(int permits) =>
        Assert.Equal("permits", Assert.Throws<ArgumentOutOfRangeException>(() => LockRules.ValidatePermits(permits)).ParamName);

    [Fact]
    public void ValidatePermits_InRange_Accepted()
    {
        LockRules.ValidatePermits(1);
        LockRules.ValidatePermits(10_000);
    }

    [Fact]
    public void CanonicalOrder_SortsOrdinallyAndRemovesDuplicates()
    {
        Assert.Equal(["A", "a", "b", "ä"], LockRules.CanonicalOrder(["b", "a", "ä", "A", "b", "a"]));
        Assert.Equal(LockRules.CanonicalOrder(["y", "x", "z"]), LockRules.CanonicalOrder(["z", "x", "y"]));
    }

    [Fact]
    public void CanonicalOrder_EmptyOrInvalid_Throws()
    {
        Assert.Throws<ArgumentException>(() => LockRules.CanonicalOrder([]));
        Assert.Throws<ArgumentException>(() => LockRules.CanonicalOrder(["ok", "bad\u0000"]));
        Assert.Throws<ArgumentNullException>(() => LockRules.CanonicalOrder(null!));
    }

    [Fact]
    public void FindHierarchyViolation_LevelAboveEveryHeld_None() =>
        Assert.Null(LockRules.FindHierarchyViolation(5, [("a", 1), ("b", 4)]));

    [Fact]
    public void FindHierarchyViolation_EqualLevel_IsAViolation() =>
        Assert.Equal(("b", 4), LockRules.FindHierarchyViolation(4, [("a", 1), ("b", 4)]));

    [Fact]
    public void FindHierarchyViolation_NothingHeld_None() =>
        Assert.Null(LockRules.FindHierarchyViolation(int.MinValue, []));

    [Theory]
    [InlineData(7, "c", 7)]
    [InlineData(2, "c", 7)]
    [InlineData(-1, "c", 7)]
    public void FindHierarchyViolation_LevelNotAboveSomeHeld_ReturnsTheHighestHeld(int level, string name, int heldLevel) =>
        Assert.Equal((name, heldLevel), LockRules.FindHierarchyViolation(level, [("a", 1), ("b", 4), ("c", 7)]));

    [Fact]
    public void ValidityMargin_IsDriftShareOfTtlPlusTwoMilliseconds()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(12), LockRules.ValidityMargin(TimeSpan.FromSeconds(1), 0.01));
        Assert.Equal(TimeSpan.FromMilliseconds(2), LockRules.ValidityMargin(TimeSpan.FromSeconds(1), 0));
        Assert.Equal(TimeSpan.FromMilliseconds(302), LockRules.ValidityMargin(TimeSpan.FromSeconds(30), 0.01));
    }

    [Fact]
    public void RenewTiming_ThirdOfTtlAndShorterRetries()
    {
        Assert.Equal(TimeSpan.FromSeconds(10), LockRules.RenewInterval(TimeSpan.FromSeconds(30)));
        Assert.Equal(TimeSpan.FromMilliseconds(100), LockRules.RenewRetryDelay(TimeSpan.FromSeconds(1)));
        Assert.Equal(TimeSpan.FromMilliseconds(10), LockRules.RenewRetryDelay(TimeSpan.FromMilliseconds(100)));
        Assert.Equal(TimeSpan.FromSeconds(1), LockRules.RenewRetryDelay(TimeSpan.FromMinutes(5)));
    }

    [Theory]
    [InlineData(250, 1000, 250)]
    [InlineData(1500, 1000, 500)]
    [InlineData(250, 1, 1)]
    public void ReplicaWait_CappedAtHalfTheAttemptTimeout(int configuredMs, int attemptMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), LockRules.ReplicaWait(TimeSpan.FromMilliseconds(configuredMs), TimeSpan.FromMilliseconds(attemptMs)));

    [Fact]
    public void WaiterLease_LongestIdleSleepTwoRechecksAndOneAttempt() =>
        Assert.Equal(TimeSpan.FromMilliseconds(3000), LockRules.WaiterLease(TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1)));

    [Fact]
    public void NextRecheck_DoublesWhileIdleUpToTwoIntervals_BackToOneAfterAWake()
    {
        var interval = TimeSpan.FromMilliseconds(500);
        Assert.Equal(TimeSpan.FromMilliseconds(1000), LockRules.NextRecheck(interval, interval, woken: false));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), LockRules.NextRecheck(TimeSpan.FromMilliseconds(1000), interval, woken: false));
        Assert.Equal(interval, LockRules.NextRecheck(TimeSpan.FromMilliseconds(1000), interval, woken: true));
    }

    [Fact]
    public void Resolve_WaitAboveMaxWaitTimeoutOrInfinite_CutToIt()
    {
        var defaults = new LockManagerOptions { MaxWaitTimeout = TimeSpan.FromMinutes(5) };
        Assert.Equal(TimeSpan.FromMinutes(5), LockRules.Resolve(new LockOptions { WaitTimeout = TimeSpan.FromDays(30) }, defaults, TimeSpan.Zero).WaitTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), LockRules.Resolve(new LockOptions { WaitTimeout = Timeout.InfiniteTimeSpan }, defaults, TimeSpan.Zero).WaitTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), LockRules.Resolve(new LockOptions { WaitTimeout = TimeSpan.FromMinutes(5) }, defaults, TimeSpan.Zero).WaitTimeout);
        Assert.Equal(TimeSpan.FromDays(1), LockRules.Resolve(new LockOptions { WaitTimeout = Timeout.InfiniteTimeSpan }, Defaults, TimeSpan.Zero).WaitTimeout);
    }

    [Theory]
    [InlineData(10_000, 500, -1, 500)]
    [InlineData(10_000, 500, 20, 21)]
    [InlineData(10_000, 500, 0, 1)]
    [InlineData(10_000, 500, 30_000, 500)]
    [InlineData(120, 500, -1, 120)]
    [InlineData(5, 500, 20, 5)]
    public void NextSleep_UntilExpiryAtMostRecheckNeverPastDeadline(int remainingMs, int recheckMs, long retryAfterMs, int expectedMs) =>
        Assert.Equal(TimeSpan.FromMilliseconds(expectedMs), LockRules.NextSleep(TimeSpan.FromMilliseconds(remainingMs), TimeSpan.FromMilliseconds(recheckMs), retryAfterMs));

    [Theory]
    [InlineData("AAAAAAAAAAAAAAAAAAAAAA", true)]
    [InlineData("abc-_XYZ0123456789abcd", true)]
    [InlineData("short", false)]
    [InlineData("#w", false)]
    [InlineData("AAAAAAAAAAAAAAAAAAAAA#", false)]
    [InlineData("AAAAAAAAAAAAAAAA AAAAA", false)]
    public void IsWellFormedToken_OnlyBase64UrlOfSaneLength(string token, bool expected)
    {
        Assert.Equal(expected, LockRules.IsWellFormedToken(token));
        Assert.False(LockRules.IsWellFormedToken(new string('A', 65)));
        Assert.True(LockRules.IsWellFormedToken(LockRuntime.NewToken()));
    }

    [Fact]
    public void ModesAndMetricNames_PerKind()
    {
        Assert.Equal(['w', 'r', 's'], new[] { LockKind.Exclusive, LockKind.Read, LockKind.Semaphore }.Select(LockRules.ModeOf));
        Assert.Equal(["exclusive", "read", "semaphore"], new[] { LockKind.Exclusive, LockKind.Read, LockKind.Semaphore }.Select(LockRules.MetricName));
    }

    [Fact]
    public void NewOwnerAndToken_Unique()
    {
        Assert.NotEqual(LockRuntime.NewOwner(), LockRuntime.NewOwner());
        Assert.Equal(22, LockRuntime.NewToken().Length);
    }

    [Fact]
    public void NewOwner_Opaque_NoMachineNameOrProcessId_Distinct()
    {
        var (first, second) = (LockRuntime.NewOwner(), LockRuntime.NewOwner());

        Assert.NotEqual(first, second);
        var processId = Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var owner in new[] { first, second })
        {
            // A random tag and a sequence number, nothing else. A short machine name ("vm") may turn up inside 16
            // random characters by chance, so it is looked for as a part of the owner, and as text when it is long.
            var parts = owner.Split('/');
            Assert.DoesNotContain(parts, p => string.Equals(p, Environment.MachineName, StringComparison.OrdinalIgnoreCase) || p == processId);
            Assert.DoesNotContain(processId, parts[0], StringComparison.Ordinal);
            if (Environment.MachineName.Length >= 8)
            {
                Assert.DoesNotContain(Environment.MachineName, owner, StringComparison.OrdinalIgnoreCase);
            }

            Assert.Matches("^[A-Za-z0-9_-]{16}/[0-9]+$", owner);
        }
    }

    [Fact]
    public async Task NewToken_ManyThreadsAcrossRefills_AllDistinctAndWellFormed()
    {
        // Each thread draws its random bits 32 tokens at a time: 4 threads x 1,000 tokens cross many refills.
        var tokens = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Enumerable.Range(0, 1000).Select(_ => LockRuntime.NewToken()).ToArray())));
        var all = tokens.SelectMany(t => t).ToArray();

        Assert.Equal(all.Length, all.Distinct(StringComparer.Ordinal).Count());
        Assert.All(all, t => Assert.True(LockRules.IsWellFormedToken(t)));
    }
}
