using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>The concurrency limiter: leases held at once, released, and expiring after a crashed holder.</summary>
[Collection(nameof(RateLimitTimingTests))]
public sealed class RateLimitConcurrencyTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task AcquireAsync_ManyConcurrentHolders_NeverMoreThanTheLimitHeld()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("jobs", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 5, Period = TimeSpan.FromMinutes(1) }, Token);
        var held = 0;
        var mostHeld = 0;
        var grants = 0;
        var end = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(2);

        await Task.WhenAll(Enumerable.Range(0, 32).Select(caller => Task.Run(
            async () =>
            {
                var limiter = caller % 2 == 0 ? hosts.LimiterA : hosts.LimiterB;
                while (DateTimeOffset.UtcNow < end)
                {
                    var decision = await limiter.AcquireAsync("jobs", "worker-pool", cancellationToken: Token);
                    if (!decision.Allowed)
                    {
                        continue;
                    }

                    // Counted after the grant and uncounted before the release: never above what Redis holds.
                    var now = Interlocked.Increment(ref held);
                    Interlocked.Increment(ref grants);
                    InterlockedMax(ref mostHeld, now);
                    await Task.Delay(2, Token);
                    Interlocked.Decrement(ref held);
                    Assert.True(await limiter.ReleaseAsync("jobs", decision.LeaseId!, Token));
                }
            },
            Token)));

        Output.WriteLine($"{grants} leases granted, at most {mostHeld} held at once");
        Assert.InRange(mostHeld, 2, 5);
        Assert.True(grants > 100, $"Only {grants} leases granted.");
        Assert.Equal(0, await (await hosts.AdminAsync()).SortedSetLengthAsync(hosts.StateKey("jobs", RateLimitAlgorithm.Concurrency, "worker-pool")));
    }

    [Fact]
    public async Task AcquireAsync_HolderCrashed_ItsLeasesExpireAfterThePeriod_WhileOthersStillHold()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("jobs", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 3, Period = TimeSpan.FromSeconds(1) }, Token);

        // Two permits in one lease, taken at one instant, so they expire together.
        var crashed = await hosts.LimiterA.AcquireAsync("jobs", "pool", permits: 2, cancellationToken: Token);
        var taken = Stopwatch.StartNew();
        // A live holder on B takes the last lease later, so the set itself lives on after A's leases expire.
        await Task.Delay(600, Token);
        var live = await hosts.LimiterB.AcquireAsync("jobs", "pool", cancellationToken: Token);
        await hosts.A.DisposeAsync();
        var refused = await hosts.LimiterB.AcquireAsync("jobs", "pool", cancellationToken: Token);
        Assert.True(crashed.Allowed);
        Assert.True(live.Allowed);
        Assert.False(refused.Allowed);
        // The crashed lease ends 1,000 ms after it was taken and the refusal comes some 600 ms after that by this
        // process's timers, which run a few ms apart from Redis's clock: the retry is the rest, about 400 ms.
        Assert.InRange(refused.RetryAfter, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(420));

        RateLimitDecision? granted = null;
        while (granted is not { Allowed: true } && taken.Elapsed < TimeSpan.FromSeconds(3))
        {
            granted = await hosts.LimiterB.AcquireAsync("jobs", "pool", cancellationToken: Token);
            await Task.Delay(10, Token);
        }

        Output.WriteLine($"A lease was granted {taken.ElapsedMilliseconds} ms after the crashed holder took its leases (period 1,000 ms)");
        Assert.True(granted is { Allowed: true, Remaining: 1 }, $"Granted: {granted}");
        Assert.InRange(taken.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromMilliseconds(1300));
        Assert.True(await hosts.LimiterB.ReleaseAsync("jobs", live.LeaseId!, Token));
    }

    [Fact]
    public async Task ReleaseAsync_FreesTheLeaseAtOnce_OnlyOnce()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("jobs", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 3, Period = TimeSpan.FromMinutes(1) }, Token);
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 3, Period = TimeSpan.FromMinutes(1) }, Token);
        var big = await hosts.LimiterA.AcquireAsync("jobs", "pool", permits: 2, cancellationToken: Token);
        var small = await hosts.LimiterA.AcquireAsync("jobs", "pool", cancellationToken: Token);
        Assert.False((await hosts.LimiterB.AcquireAsync("jobs", "pool", cancellationToken: Token)).Allowed);

        Assert.True(await hosts.LimiterB.ReleaseAsync("jobs", big.LeaseId!, Token));
        var after = await hosts.LimiterB.AcquireAsync("jobs", "pool", permits: 2, cancellationToken: Token);

        Assert.True(after.Allowed);
        Assert.NotEqual(big.LeaseId, after.LeaseId);
        Assert.False(await hosts.LimiterA.ReleaseAsync("jobs", big.LeaseId!, Token));
        Assert.True(await hosts.LimiterA.ReleaseAsync("jobs", small.LeaseId!, Token));
        Assert.False(await hosts.LimiterA.ReleaseAsync("jobs", "not-a-lease", Token));
        Assert.False(await hosts.LimiterA.ReleaseAsync("jobs", after.LeaseId! + "x", Token));
        Assert.False(await hosts.LimiterA.ReleaseAsync("api", after.LeaseId!, Token));
        // Another tenant's service builds the key under its own tenant: a lease id cannot reach across.
        Assert.False(await hosts.A.Factory.ForTenant("other").RateLimits.ReleaseAsync("jobs", after.LeaseId!, Token));
        Assert.True(await hosts.LimiterA.ReleaseAsync("jobs", after.LeaseId!, Token));
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current)
        {
            var seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
