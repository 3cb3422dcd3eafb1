using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>
/// The limits hold exactly under concurrency: 64 callers on two hosts (two nodes of one platform) against one key.
/// Counting windows and refill uses Redis's clock or the decisions' own timing, never a guess.
/// </summary>
[Collection(nameof(RateLimitTimingTests))]
public sealed class RateLimitExactnessTests(SharedRedisFixture redis)
{
    private const int Callers = 64;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task FixedWindow_64CallersOnTwoHosts_AdmitExactlyTheLimitInEveryWindow()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 1_000, Period = TimeSpan.FromSeconds(1) }, Token);

        var decisions = await hosts.SaturateAsync("api", "client-1", Callers, TimeSpan.FromSeconds(4.5), Token);

        // An admitted decision's window ends ResetAfter after it was made: the window's end, to within the round trip.
        var windows = decisions.Where(d => d.Decision.Allowed)
            .GroupBy(d => (long)Math.Round((d.At + d.Decision.ResetAfter.TotalMilliseconds) / 1000.0))
            .OrderBy(g => g.Key)
            .ToList();
        Output.WriteLine($"{decisions.Count} decisions; admitted per window: {string.Join(", ", windows.Select(w => w.Count()))}");
        var whole = windows.Skip(1).SkipLast(1).ToList();
        Assert.True(whole.Count >= 3, $"Only {whole.Count} whole windows were saturated.");
        foreach (var window in whole)
        {
            Assert.Equal(1_000, window.Count());
            // Every remaining count from 999 down to 0 was handed out exactly once: no permit admitted twice.
            Assert.Equal(Enumerable.Range(0, 1_000).Select(i => (long)i), window.Select(d => d.Decision.Remaining).Order());
        }

        Assert.All(decisions.Where(d => !d.Decision.Allowed), d => Assert.InRange(d.Decision.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(1)));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.SlidingLog)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    [InlineData(RateLimitAlgorithm.Gcra)]
    [InlineData(RateLimitAlgorithm.Concurrency)]
    public async Task EveryAlgorithm_64CallersOnTwoHostsFromAFreshKey_AdmitExactlyTheLimit(RateLimitAlgorithm algorithm)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        // An hour-long period: nothing refills or slides during the test, so exactly the limit (or the full bucket) is
        // admitted, no matter how the calls interleave.
        var period = TimeSpan.FromHours(1);
        await hosts.WaitOutWindowEdgeAsync(period, Token);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 1_000, Period = period }, Token);

        var decisions = await hosts.SaturateAsync("api", "client-1", Callers, TimeSpan.FromSeconds(1.5), Token);

        var admitted = decisions.Count(d => d.Decision.Allowed);
        Output.WriteLine($"{algorithm}: {decisions.Count} decisions, {admitted} admitted");
        Assert.True(decisions.Count > 2_000, $"Only {decisions.Count} decisions: the key was not saturated.");
        Assert.Equal(1_000, admitted);
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => (long)i), decisions.Where(d => d.Decision.Allowed).Select(d => d.Decision.Remaining).Order());
        Assert.All(decisions, d => Assert.Equal(1_000, d.Decision.Limit));
        if (algorithm == RateLimitAlgorithm.Concurrency)
        {
            Assert.Equal(1_000, decisions.Where(d => d.Decision.Allowed).Select(d => d.Decision.LeaseId).Distinct().Count());
        }
    }

    [Fact]
    public async Task FixedWindow_100PerSecondSaturatedFor3Seconds_Admits300To400()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 100, Period = TimeSpan.FromSeconds(1) }, Token);

        var decisions = await hosts.SaturateAsync("api", "client-1", 8, TimeSpan.FromSeconds(3), Token);

        var admitted = decisions.Count(d => d.Decision.Allowed);
        Output.WriteLine($"{decisions.Count} decisions, {admitted} admitted");
        // Three seconds touch three or four aligned windows: each admits at most 100, the whole ones inside exactly 100.
        Assert.InRange(admitted, 300, 400);
        var windows = decisions.Where(d => d.Decision.Allowed)
            .GroupBy(d => (long)Math.Round((d.At + d.Decision.ResetAfter.TotalMilliseconds) / 1000.0))
            .OrderBy(g => g.Key)
            .Select(g => g.Count())
            .ToList();
        Assert.All(windows, count => Assert.InRange(count, 1, 100));
        Assert.All(windows.Skip(1).SkipLast(1), count => Assert.Equal(100, count));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.SlidingLog)]
    public async Task SlidingAlgorithms_SaturatedAcrossWindows_NeverAdmitAboveTheLimit(RateLimitAlgorithm algorithm)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 100, Period = TimeSpan.FromSeconds(1) }, Token);

        var started = await hosts.RedisNowAsync();
        var decisions = await hosts.SaturateAsync("api", "client-1", 16, TimeSpan.FromSeconds(3), Token);
        var ended = await hosts.RedisNowAsync();

        var admitted = decisions.Where(d => d.Decision.Allowed).ToList();
        Output.WriteLine($"{algorithm}: {decisions.Count} decisions, {admitted.Count} admitted in {ended - started} ms of Redis time");
        if (algorithm == RateLimitAlgorithm.SlidingLog)
        {
            // Exact: any period holds at most 100, so [started, ended] holds at most 100 per started second.
            Assert.InRange(admitted.Count, 100 * ((ended - started) / 1000), 100 * (((ended - started) / 1000) + 1));
        }
        else
        {
            // The estimate never undercounts the aligned window it is in: at most 100 per aligned window touched.
            var windows = (ended / 1000) - (started / 1000) + 1;
            Assert.InRange(admitted.Count, 100 * (windows - 2), 100 * windows);
            var perWindow = admitted.GroupBy(d => (long)Math.Round((d.At + d.Decision.ResetAfter.TotalMilliseconds) / 1000.0));
            Assert.All(perWindow, w => Assert.True(w.Count() <= 100, $"{w.Count()} admitted in one window."));
        }

        // The remaining count of an admitted decision never goes below zero, and the sliding log hands each out once per period.
        Assert.All(admitted, d => Assert.InRange(d.Decision.Remaining, 0, 99));
    }

    [Fact]
    public async Task TokenBucket_SaturatedFromFull_AdmitsTheCapacityThenTheRefillRate()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 500, Period = TimeSpan.FromSeconds(1), Burst = 200 }, Token);

        var started = await hosts.RedisNowAsync();
        var decisions = await hosts.SaturateAsync("api", "client-1", Callers, TimeSpan.FromSeconds(3), Token);
        var ended = await hosts.RedisNowAsync();

        var admitted = decisions.Count(d => d.Decision.Allowed);
        var refilled = (ended - started) * 500 / 1000;
        Output.WriteLine($"{decisions.Count} decisions, {admitted} admitted in {ended - started} ms: capacity 200 + refill {refilled}");
        // The guarantee: never more than the full bucket plus what refilled meanwhile. The lower bound only shows the
        // refill is handed out (the callers, stalled on a loaded machine, may leave some of it unasked).
        Assert.InRange(admitted, 200 + (refilled / 2), 200 + refilled);
        Assert.All(decisions, d => Assert.Equal(200, d.Decision.Limit));
        Assert.All(decisions.Where(d => !d.Decision.Allowed), d => Assert.InRange(d.Decision.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2)));
    }

    [Fact]
    public async Task Gcra_SaturatedFromQuiet_AdmitsTheBurstThenOnePerEmissionInterval()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        // 50 per second: one permit every 20 ms, a burst of 10.
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Gcra, Limit = 50, Period = TimeSpan.FromSeconds(1), Burst = 10 }, Token);

        var started = await hosts.RedisNowAsync();
        var decisions = await hosts.SaturateAsync("api", "client-1", 16, TimeSpan.FromSeconds(2), Token);
        var ended = await hosts.RedisNowAsync();

        var admitted = decisions.Where(d => d.Decision.Allowed).OrderBy(d => d.At).ToList();
        var emitted = (ended - started) / 20;
        Output.WriteLine($"{decisions.Count} decisions, {admitted.Count} admitted in {ended - started} ms: burst 10 + {emitted} intervals");
        Assert.InRange(admitted.Count, 10 + emitted - 3, 10 + emitted);
        // After the burst, admissions are spaced by the emission interval: no 20 ms stretch admits more than two (three
        // with the client clock's millisecond). Redis decided each between its request and its answer, so a stretch is
        // proven crowded only by admissions asked for and answered within it: answers a loaded machine delivers late
        // and together say nothing about when Redis admitted them.
        var steady = admitted.Skip(10).OrderBy(d => d.Sent).ToList();
        var crowded = steady.Select((first, i) => steady.Skip(i).Count(d => d.At - first.Sent < 20)).Max();
        Assert.True(crowded <= 3, $"{crowded} admissions asked for and answered within 20 ms after the burst.");
        Assert.All(decisions.Where(d => !d.Decision.Allowed), d => Assert.InRange(d.Decision.RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(20)));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    [InlineData(RateLimitAlgorithm.Gcra)]
    public async Task Burst_ThenSustained_TheBurstAtOnceThenTheRateWithExactRetryAfter(RateLimitAlgorithm algorithm)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        // 10 per second (100 ms apart), burst 5.
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 10, Period = TimeSpan.FromSeconds(1), Burst = 5 }, Token);

        // The six calls of the burst must come within one emission interval (100 ms) by Redis's clock; on a machine
        // stalled longer, a token refills between them, so the attempt is made again with a fresh key.
        var key = string.Empty;
        List<RateLimitDecision> burst = [];
        for (var attempt = 0; attempt < 5; attempt++)
        {
            key = "client-" + attempt;
            burst = [];
            var burstStarted = await hosts.RedisNowAsync();
            for (var i = 0; i < 6; i++)
            {
                burst.Add(await hosts.LimiterA.AcquireAsync("api", key, cancellationToken: Token));
            }

            if (await hosts.RedisNowAsync() - burstStarted < 90)
            {
                break;
            }

            Output.WriteLine($"Attempt {attempt}: the burst took 90 ms or more; again.");
        }

        Assert.All(burst.Take(5), d => Assert.True(d.Allowed));
        Assert.Equal([4L, 3, 2, 1, 0], burst.Take(5).Select(d => d.Remaining));
        Assert.False(burst[5].Allowed);
        Assert.Null(burst[5].Reason);
        Assert.InRange(burst[5].RetryAfter, TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(100));
        Assert.InRange(burst[5].ResetAfter, TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(500));

        // Sustained: each caller that waits its RetryAfter gets in; one permit per 100 ms of Redis's clock.
        var admitted = 0;
        var started = await hosts.RedisNowAsync();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            var decision = await hosts.LimiterB.AcquireAsync("api", key, cancellationToken: Token);
            if (decision.Allowed)
            {
                admitted++;
            }
            else
            {
                await Task.Delay(decision.RetryAfter, Token);
            }
        }

        var elapsed = await hosts.RedisNowAsync() - started;
        Output.WriteLine($"{algorithm}: {admitted} admitted in {elapsed} ms of Redis's clock after the burst");
        Assert.InRange(admitted, (elapsed / 100) - 1, (elapsed / 100) + 1);
    }
}

/// <summary>
/// The rate-limiting tests that judge what Redis's clock says about when calls landed (windows, refill, retry-after,
/// lease expiry): they run alone, so other test classes do not stall their callers past the windows they measure.
/// </summary>
[CollectionDefinition(nameof(RateLimitTimingTests), DisableParallelization = true)]
public sealed class RateLimitTimingTests;
