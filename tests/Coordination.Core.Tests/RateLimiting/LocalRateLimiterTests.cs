using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Core.Tests.RateLimiting;

public class LocalRateLimiterTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    [Fact]
    public void Acquire_AdmitsThisNodesShareOfTheLimitPerWindow()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(10_000));
        var limiter = new LocalRateLimiter(new RateLimitFallbackOptions { NodeCount = 4 }, criticalReserve: 0, time);

        var decisions = Enumerable.Range(0, 30).Select(_ => limiter.Acquire("t", "api", RateLimitAlgorithm.FixedWindow, 100, Second, "k", 1)).ToList();

        Assert.Equal(25, decisions.Count(d => d.Allowed));
        Assert.All(decisions, d => Assert.True(d is { DecidedLocally: true, Limit: 25 }));
        Assert.Equal(24, decisions[0].Remaining);
        Assert.Equal(Second, decisions[^1].RetryAfter);

        time.Advance(TimeSpan.FromMilliseconds(400));
        var refused = limiter.Acquire("t", "api", RateLimitAlgorithm.FixedWindow, 100, Second, "k", 1);
        Assert.Equal(TimeSpan.FromMilliseconds(600), refused.RetryAfter);
        time.Advance(TimeSpan.FromMilliseconds(600));
        Assert.True(limiter.Acquire("t", "api", RateLimitAlgorithm.FixedWindow, 100, Second, "k", 1) is { Allowed: true, Remaining: 24 });
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.Concurrency)]
    public void Acquire_CriticalReserve_NormalLeavesItsShareOfTheNodesShare_CriticalUsesAll(RateLimitAlgorithm algorithm)
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(10_000));
        var limiter = new LocalRateLimiter(new RateLimitFallbackOptions { NodeCount = 2 }, criticalReserve: 0.2, time);

        // This node's share of 20 is 10, of which normal traffic may use 8.
        var normal = Enumerable.Range(0, 9).Select(_ => limiter.Acquire("t", "api", algorithm, 20, Second, "k", 1)).ToList();
        var critical = Enumerable.Range(0, 3).Select(_ => limiter.Acquire("t", "api", algorithm, 20, Second, "k", 1, RateLimitPriority.Critical)).ToList();

        Assert.Equal([true, true, true, true, true, true, true, true, false], normal.Select(d => d.Allowed));
        Assert.Equal([7L, 0L, 0L], [normal[0].Remaining, normal[7].Remaining, normal[8].Remaining]);
        Assert.Equal(Second, normal[8].RetryAfter);
        Assert.Equal([true, true, false], critical.Select(d => d.Allowed));
        Assert.Equal([1L, 0L], [critical[0].Remaining, critical[1].Remaining]);
        // Never: more than the policy's 20 less its reserve of 4, for a normal request; a critical one of 17 may wait.
        Assert.Equal(Timeout.InfiniteTimeSpan, limiter.Acquire("t", "api", algorithm, 20, Second, "other", 17).RetryAfter);
        Assert.NotEqual(Timeout.InfiniteTimeSpan, limiter.Acquire("t", "api", algorithm, 20, Second, "other", 17, RateLimitPriority.Critical).RetryAfter);
    }

    [Fact]
    public void Acquire_KeysTenantsPoliciesAndAlgorithmsCountApart_ShareIsAtLeastOne()
    {
        var limiter = new LocalRateLimiter(new RateLimitFallbackOptions { NodeCount = 10 }, criticalReserve: 0, new FakeTimeProvider());

        Assert.Equal(1, limiter.ShareOf(3));
        foreach (var (tenant, policy, algorithm, key) in new[] { ("t", "p", RateLimitAlgorithm.Gcra, "k"), ("u", "p", RateLimitAlgorithm.Gcra, "k"), ("t", "q", RateLimitAlgorithm.Gcra, "k"), ("t", "p", RateLimitAlgorithm.TokenBucket, "k"), ("t", "p", RateLimitAlgorithm.Gcra, "l") })
        {
            Assert.True(limiter.Acquire(tenant, policy, algorithm, 3, Second, key, 1).Allowed);
            Assert.False(limiter.Acquire(tenant, policy, algorithm, 3, Second, key, 1).Allowed);
        }

        Assert.Equal(5, limiter.Count);
    }

    [Fact]
    public void Acquire_MorePermitsThanTheLimit_NeverSucceeds_MoreThanTheShare_RetriesAtTheWindow()
    {
        var limiter = new LocalRateLimiter(new RateLimitFallbackOptions { NodeCount = 2 }, criticalReserve: 0, new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(0)));

        var never = limiter.Acquire("t", "p", RateLimitAlgorithm.SlidingLog, 10, Second, "k", 11);
        var later = limiter.Acquire("t", "p", RateLimitAlgorithm.SlidingLog, 10, Second, "k", 6);

        Assert.True(never is { Allowed: false, Reason: not null });
        Assert.Equal(Timeout.InfiniteTimeSpan, never.RetryAfter);
        Assert.True(later is { Allowed: false, Reason: null, Remaining: 5 });
        Assert.Equal(Second, later.RetryAfter);
    }

    [Fact]
    public void Acquire_PastMaxLimiters_DropsTheLeastRecentlyUsed()
    {
        var limiter = new LocalRateLimiter(new RateLimitFallbackOptions { MaxLimiters = 3 }, criticalReserve: 0, new FakeTimeProvider());
        bool Take(string key) => limiter.Acquire("t", "p", RateLimitAlgorithm.FixedWindow, 1, TimeSpan.FromHours(1), key, 1).Allowed;

        Assert.True(Take("a") && Take("b") && Take("c"));
        Assert.False(Take("a"));
        Assert.True(Take("d"));

        Assert.Equal(3, limiter.Count);
        Assert.False(Take("a"));
        Assert.False(Take("d"));
        Assert.True(Take("b"));
    }

    [Fact]
    public void Lease_HoldsTheShare_ReleaseFreesIt_ExpiryFreesIt()
    {
        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(0));
        var limiter = new LocalRateLimiter(new RateLimitFallbackOptions { NodeCount = 2 }, criticalReserve: 0, time);
        RateLimitDecision Lease(int permits = 1) => limiter.Acquire("t", "jobs", RateLimitAlgorithm.Concurrency, 6, TimeSpan.FromSeconds(10), "user/1", permits);

        var first = Lease();
        var second = Lease(2);
        time.Advance(Second);
        var refused = Lease();

        Assert.StartsWith(LocalRateLimiter.LeasePrefix, first.LeaseId, StringComparison.Ordinal);
        Assert.True(second is { Allowed: true, Remaining: 0 });
        Assert.True(refused is { Allowed: false, LeaseId: null });
        Assert.Equal(TimeSpan.FromSeconds(9), refused.RetryAfter);
        Assert.True(limiter.Release("t", "jobs", first.LeaseId!));
        Assert.False(limiter.Release("t", "jobs", first.LeaseId!));
        Assert.False(limiter.Release("u", "jobs", second.LeaseId!));
        Assert.False(limiter.Release("t", "jobs", "local.x.%%"));
        Assert.False(limiter.Release("t", "jobs", "local.x"));
        Assert.False(limiter.Release("t", "jobs", "local.x.AA"));
        Assert.True(Lease().Allowed);

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(limiter.Release("t", "jobs", second.LeaseId!));
        Assert.True(Lease(3).Allowed);
    }

    [Fact]
    public void AcquireLevels_AllOrNothing_ARefusingLevelChargesNone()
    {
        var limiter = new LocalRateLimiter(new RateLimitFallbackOptions { NodeCount = 1 }, criticalReserve: 0, new FakeTimeProvider(DateTimeOffset.FromUnixTimeMilliseconds(0)));
        LocalRateLimiter.Level Tenant() => new("tenant", RateLimitAlgorithm.FixedWindow, 5, TimeSpan.FromHours(1), "all");
        LocalRateLimiter.Level User(string user) => new("user", RateLimitAlgorithm.TokenBucket, 3, TimeSpan.FromHours(1), user);

        // Three users of three permits each under a tenant-wide five: the users' own levels never stop the tenant's.
        var first = limiter.Acquire("t", [Tenant(), User("a")], 3);
        var second = limiter.Acquire("t", [Tenant(), User("b")], 3);
        var third = limiter.Acquire("t", [Tenant(), User("b")], 2);

        Assert.True(first is [{ Allowed: true, Remaining: 2 }, { Allowed: true, Remaining: 0 }]);
        Assert.True(second is [{ Allowed: false, Remaining: 2 }, { Allowed: true, Remaining: 3 }]);
        Assert.True(third is [{ Allowed: true, Remaining: 0 }, { Allowed: true, Remaining: 1 }]);
        Assert.True(limiter.Acquire("t", [Tenant(), User("c")], 1) is [{ Allowed: false }, { Allowed: true }]);
        Assert.True(limiter.Acquire("t", [User("c")], 3) is [{ Allowed: true, Remaining: 0 }]);
    }

    [Fact]
    public void RedisLatencySignal_CountsCallsSlowCallsAndFailures_AndStartsAgainAfterASample()
    {
        var signal = new RedisLatencySignal(new RateLimitAdaptiveOptions { LatencyThreshold = TimeSpan.FromMilliseconds(50) });

        signal.Record(Stopwatch.GetTimestamp(), failed: false);
        signal.Record(Stopwatch.GetTimestamp() - Stopwatch.Frequency, failed: false);
        signal.Record(Stopwatch.GetTimestamp(), failed: true);

        Assert.Equal(new RateLimitHealthSample(3, 1, 1), signal.TakeSample());
        Assert.Equal(new RateLimitHealthSample(0, 0, 0), signal.TakeSample());
    }
}

/// <summary>One level at a time, as the single-policy path asks the local limiter.</summary>
file static class SingleLevel
{
    public static RateLimitDecision Acquire(this LocalRateLimiter limiter, string tenant, string policy, RateLimitAlgorithm algorithm, long limit, TimeSpan period, string key, int permits, RateLimitPriority priority = RateLimitPriority.Normal) =>
        limiter.Acquire(tenant, [new LocalRateLimiter.Level(policy, algorithm, limit, period, key)], permits, priority).Single();
}
