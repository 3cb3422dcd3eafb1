using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>The rate limiter's answers on the shared redis-server: permits, bad input, retry timing, keys and their expiry, tenants.</summary>
[Collection(nameof(RateLimitTimingTests))]
public sealed class RateLimitServiceTests(SharedRedisFixture redis)
{
    public static readonly TheoryData<RateLimitAlgorithm> Algorithms = new(Enum.GetValues<RateLimitAlgorithm>());

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task AcquireAsync_MorePermitsThanTheLimit_RefusedWithAReasonAndNothingCharged(RateLimitAlgorithm algorithm)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 10, Period = TimeSpan.FromHours(1) }, Token);

        var tooMany = await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 11, cancellationToken: Token);
        var all = await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 10, cancellationToken: Token);

        Assert.False(tooMany.Allowed);
        Assert.Contains("11 permits", tooMany.Reason, StringComparison.Ordinal);
        Assert.Equal(Timeout.InfiniteTimeSpan, tooMany.RetryAfter);
        Assert.Equal((10L, 10L), (tooMany.Limit, tooMany.Remaining));
        Assert.Null(tooMany.LeaseId);
        Assert.True(all.Allowed);
        Assert.Equal(0, all.Remaining);
        Assert.Null(all.Reason);
        Assert.Equal(TimeSpan.Zero, all.RetryAfter);
    }

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task AcquireAsync_SeveralPermits_ChargesThemAllOrNone(RateLimitAlgorithm algorithm)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 10, Period = TimeSpan.FromHours(1) }, Token);

        var four = await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 4, cancellationToken: Token);
        var seven = await hosts.LimiterB.AcquireAsync("api", "client-1", permits: 7, cancellationToken: Token);
        var six = await hosts.LimiterB.AcquireAsync("api", "client-1", permits: 6, cancellationToken: Token);
        var one = await hosts.LimiterA.AcquireAsync("api", "client-1", cancellationToken: Token);

        Assert.Equal((true, 6L), (four.Allowed, four.Remaining));
        Assert.Equal((false, 6L), (seven.Allowed, seven.Remaining));
        Assert.Null(seven.Reason);
        Assert.True(seven.RetryAfter > TimeSpan.Zero);
        Assert.Equal((true, 0L), (six.Allowed, six.Remaining));
        Assert.False(one.Allowed);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.SlidingLog)]
    [InlineData(RateLimitAlgorithm.Concurrency)]
    public async Task AcquireAsync_TheLargestLimitAllAtOnce_IsAdmittedAndReleased(RateLimitAlgorithm algorithm)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 10_000, Period = TimeSpan.FromHours(1) }, Token);

        var all = await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 10_000, cancellationToken: Token);
        var one = await hosts.LimiterA.AcquireAsync("api", "client-1", cancellationToken: Token);

        Assert.Equal((true, 0L), (all.Allowed, all.Remaining));
        Assert.False(one.Allowed);
        Assert.Equal(10_000, await (await hosts.AdminAsync()).SortedSetLengthAsync(hosts.StateKey("api", algorithm, "client-1")));
        if (algorithm == RateLimitAlgorithm.Concurrency)
        {
            Assert.True(await hosts.LimiterB.ReleaseAsync("api", all.LeaseId!, Token));
            Assert.True((await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 10_000, cancellationToken: Token)).Allowed);
        }
    }

    [Fact]
    public async Task AcquireAsync_BadInput_ThrowsArgumentExceptionAndUnknownPolicyNotFound()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 10, Period = TimeSpan.FromHours(1) }, Token);
        var limiter = hosts.LimiterA;

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await limiter.AcquireAsync("api", "k", permits: 0, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await limiter.AcquireAsync("api", "k", permits: -3, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await limiter.AcquireAsync("api", "", cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await limiter.AcquireAsync("api", "a\nb", cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await limiter.AcquireAsync("api", new string('k', 513), cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await limiter.AcquireAsync("a:pi", "k", cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await limiter.AcquireAsync("api", null!, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await limiter.AcquireAsync("api", "k", priority: (RateLimitPriority)7, cancellationToken: Token));
        var missing = await Assert.ThrowsAsync<RateLimitPolicyNotFoundException>(async () => await limiter.AcquireAsync("nope", "k", cancellationToken: Token));
        Assert.Equal("nope", missing.Policy);
        await Assert.ThrowsAsync<RateLimitPolicyNotFoundException>(async () => await limiter.ReleaseAsync("nope", "x", Token));
        Assert.Null(await limiter.GetPolicyAsync("nope", Token));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.SlidingLog)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    [InlineData(RateLimitAlgorithm.Gcra)]
    public async Task AcquireAsync_Refused_SucceedsAtItsRetryAfterAndNotBefore(RateLimitAlgorithm algorithm)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 4, Period = TimeSpan.FromMilliseconds(800) }, Token);
        var limiter = hosts.LimiterA;
        // The four permits are taken early in one aligned window, so the refusal is not a window that already rolled over.
        var now = await hosts.RedisNowAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(800 - (now % 800) + 10), Token);
        for (var i = 0; i < 4; i++)
        {
            Assert.True((await limiter.AcquireAsync("api", "client-1", cancellationToken: Token)).Allowed);
            await Task.Delay(60, Token);
        }

        var refused = await limiter.AcquireAsync("api", "client-1", permits: 2, cancellationToken: Token);
        var clock = Stopwatch.StartNew();
        Assert.False(refused.Allowed);
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1600));
        Assert.True(refused.ResetAfter >= refused.RetryAfter, $"Reset {refused.ResetAfter} before retry {refused.RetryAfter}.");

        if (refused.RetryAfter > TimeSpan.FromMilliseconds(60))
        {
            await Task.Delay(refused.RetryAfter - TimeSpan.FromMilliseconds(40), Token);
            var sentAt = clock.Elapsed;
            var early = await limiter.AcquireAsync("api", "client-1", permits: 2, cancellationToken: Token);

            // Judged only when the call left well before the retry time: a machine stalled past it has no "early" call.
            if (sentAt < refused.RetryAfter - TimeSpan.FromMilliseconds(20))
            {
                Assert.False(early.Allowed, $"Admitted {sentAt.TotalMilliseconds:0} ms after a refusal that said {refused.RetryAfter.TotalMilliseconds} ms.");
            }
        }

        var wait = refused.RetryAfter - clock.Elapsed + TimeSpan.FromMilliseconds(5);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, Token);
        }

        var onTime = await limiter.AcquireAsync("api", "client-1", permits: 2, cancellationToken: Token);
        Assert.True(onTime.Allowed, $"Refused {clock.ElapsedMilliseconds} ms after a refusal that said {refused.RetryAfter.TotalMilliseconds} ms (retry now {onTime.RetryAfter}).");
    }

    [Fact]
    public async Task SlidingWindow_FullPreviousWindow_WeighsOnTheNextByItsOverlap()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingWindow, Limit = 10, Period = TimeSpan.FromSeconds(1) }, Token);

        // The calls must land where the test places them, by Redis's clock; on a machine stalled past that, the attempt
        // is made again with a fresh key rather than judged.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var key = "client-" + attempt;
            await DelayUntilWindowOffsetAsync(hosts, 50);
            var first = await hosts.LimiterA.AcquireAsync("api", key, permits: 10, cancellationToken: Token);
            var firstAt = await hosts.RedisNowAsync();

            // 150 to 300 ms into the next window, the full previous one still weighs 85 to 70 %: 1 or 2 of 10 are left.
            await DelayUntilWindowOffsetAsync(hosts, 150);
            var startedAt = await hosts.RedisNowAsync();
            var admitted = 0;
            for (var i = 0; i < 10; i++)
            {
                admitted += (await hosts.LimiterB.AcquireAsync("api", key, cancellationToken: Token)).Allowed ? 1 : 0;
            }

            var endedAt = await hosts.RedisNowAsync();
            if (startedAt / 1000 != (firstAt / 1000) + 1 || endedAt / 1000 != startedAt / 1000 || endedAt % 1000 > 300)
            {
                Output.WriteLine($"Attempt {attempt}: the calls ran from {startedAt % 1000} to {endedAt % 1000} ms of window {endedAt / 1000 - firstAt / 1000} after the first; again.");
                continue;
            }

            Assert.True(first.Allowed);
            Assert.InRange(admitted, 1, 2);
            return;
        }

        Assert.Fail("In five attempts the machine never ran the calls within 150..300 ms of the window after the first.");
    }

    /// <summary>Waits until Redis's clock is <paramref name="offsetMs"/> into the next aligned second.</summary>
    private static async Task DelayUntilWindowOffsetAsync(RateLimitHosts hosts, int offsetMs)
    {
        var now = await hosts.RedisNowAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(1000 - (now % 1000) + offsetMs), Token);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow, 300)]
    [InlineData(RateLimitAlgorithm.SlidingWindow, 600)]
    [InlineData(RateLimitAlgorithm.SlidingLog, 300)]
    [InlineData(RateLimitAlgorithm.TokenBucket, 300)]
    [InlineData(RateLimitAlgorithm.Gcra, 300)]
    [InlineData(RateLimitAlgorithm.Concurrency, 300)]
    public async Task AcquireAsync_State_LivesInTheTenantsSlotAndExpiresWhenNoLongerNeeded(RateLimitAlgorithm algorithm, int lifetimeMs)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 10, Period = TimeSpan.FromMilliseconds(300) }, Token);
        var admin = await hosts.AdminAsync();

        await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 3, cancellationToken: Token);

        var key = hosts.StateKey("api", algorithm, "client-1");
        var ttl = await admin.KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(lifetimeMs));
        await Task.Delay(lifetimeMs + 100, Token);
        Assert.False(await admin.KeyExistsAsync(key));
    }

    [Fact]
    public async Task AcquireAsync_Tenants_CountedApart()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 2, Period = TimeSpan.FromHours(1) }, Token);
        var first = hosts.A.Factory.ForTenant("tenant-1").RateLimits;
        var second = hosts.B.Factory.ForTenant("tenant-2").RateLimits;

        Assert.True((await first.AcquireAsync("api", "shared-name", permits: 2, cancellationToken: Token)).Allowed);
        Assert.False((await first.AcquireAsync("api", "shared-name", cancellationToken: Token)).Allowed);
        Assert.True((await second.AcquireAsync("api", "shared-name", permits: 2, cancellationToken: Token)).Allowed);

        var admin = await hosts.AdminAsync();
        Assert.True(await admin.KeyExistsAsync(hosts.StateKey("api", RateLimitAlgorithm.FixedWindow, "shared-name", "tenant-1")));
        Assert.True(await admin.KeyExistsAsync(hosts.StateKey("api", RateLimitAlgorithm.FixedWindow, "shared-name", "tenant-2")));
        Assert.Same(hosts.A.Services.GetRequiredService<IRateLimitService>(), hosts.A.Coordinator.RateLimits);
    }

    [Fact]
    public async Task AcquireAsync_PolicyChangesAlgorithm_StartsAfreshInsteadOfReadingTheOtherState()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 3, Period = TimeSpan.FromHours(1) }, Token);
        Assert.True((await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 3, cancellationToken: Token)).Allowed);

        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 3, Period = TimeSpan.FromHours(1) }, Token);
        var after = await hosts.LimiterA.AcquireAsync("api", "client-1", cancellationToken: Token);

        Assert.Equal((true, 2L), (after.Allowed, after.Remaining));
    }

    [Fact]
    public async Task TokenBucket_LimitChangedWhileInUse_KeepsTheTokensLeft()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 10, Period = TimeSpan.FromHours(1) }, Token);
        Assert.True((await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 6, cancellationToken: Token)).Allowed);

        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 10, Period = TimeSpan.FromHours(2) }, Token);
        var after = await hosts.LimiterA.AcquireAsync("api", "client-1", cancellationToken: Token);

        Assert.Equal((true, 3L), (after.Allowed, after.Remaining));
    }

    [Fact]
    public async Task Gcra_LimitChangedWhileInUse_KeepsTheTimeAhead()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Gcra, Limit = 10, Period = TimeSpan.FromHours(1) }, Token);
        Assert.True((await hosts.LimiterA.AcquireAsync("api", "client-1", permits: 6, cancellationToken: Token)).Allowed);

        // 6 intervals of 6 min taken = 36 min ahead; at 20 per hour (3 min apart) with a burst of 20 that leaves 8.
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Gcra, Limit = 20, Period = TimeSpan.FromHours(1) }, Token);
        var after = await hosts.LimiterA.AcquireAsync("api", "client-1", cancellationToken: Token);

        Assert.Equal((true, 7L), (after.Allowed, after.Remaining));
    }
}
