using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>
/// Hierarchical quotas (<see cref="IRateLimitService.AcquireAllAsync"/>): one acquisition charges a tenant-wide level
/// and a user's level together or not at all, so the users of a tenant never exceed the tenant's quota together and a
/// refusal at one level costs nothing at the others.
/// </summary>
[Collection(nameof(RateLimitTimingTests))]
public sealed class RateLimitHierarchyTests(SharedRedisFixture redis)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcquireAll_64CallersOnTwoHostsOver50Users_TenantAdmitsExactlyItsQuota_UsersChargedOnlyForWhatWasAdmitted()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.WaitOutWindowEdgeAsync(Hour, Token);
        await hosts.PoliciesA.SetAsync("tenant", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 1_000, Period = Hour }, Token);
        await hosts.PoliciesA.SetAsync("user", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 40, Period = Hour }, Token);
        const int Users = 50;

        // 50 users of 40 each could take 2,000: the tenant's 1,000 must bind, whichever user asks.
        var end = DateTimeOffset.UtcNow.AddSeconds(1.5);
        var perCaller = await Task.WhenAll(Enumerable.Range(0, 64).Select(caller => Task.Run(
            async () =>
            {
                var limiter = caller % 2 == 0 ? hosts.LimiterA : hosts.LimiterB;
                var mine = new List<(string User, RateLimitHierarchyDecision Decision)>();
                for (var i = 0; DateTimeOffset.UtcNow < end; i++)
                {
                    var user = $"user-{(caller + i) % Users}";
                    mine.Add((user, await limiter.AcquireAllAsync([new("tenant", "all"), new("user", user)], cancellationToken: Token)));
                }

                return mine;
            },
            Token)));
        var decisions = perCaller.SelectMany(d => d).ToList();

        var admitted = decisions.Where(d => d.Decision.Allowed).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"{decisions.Count} decisions, {admitted.Count} admitted");
        Assert.True(decisions.Count > 2_000, $"Only {decisions.Count} decisions: the tenant was not saturated.");
        Assert.Equal(1_000, admitted.Count);
        Assert.Equal(Enumerable.Range(0, 1_000).Select(i => (long)i), admitted.Select(d => d.Decision.Levels[0].Remaining).Order());
        Assert.All(admitted.GroupBy(d => d.User), user => Assert.InRange(user.Count(), 1, 40));
        // Refused at the tenant's level only while users still had room: those refusals charged no user.
        Assert.All(decisions.Where(d => !d.Decision.Allowed), d => Assert.Equal(0, d.Decision.RefusedLevel));

        var admin = await hosts.AdminAsync();
        Assert.Equal(1_000, (long)await admin.HashGetAsync(hosts.StateKey("tenant", RateLimitAlgorithm.FixedWindow, "all"), "c"));
        long charged = 0;
        for (var user = 0; user < Users; user++)
        {
            var count = await admin.HashGetAsync(hosts.StateKey("user", RateLimitAlgorithm.FixedWindow, $"user-{user}"), "c");
            charged += count.HasValue ? (long)count : 0;
            Assert.Equal(admitted.Count(d => d.User == $"user-{user}"), count.HasValue ? (long)count : 0);
        }

        Assert.Equal(1_000, charged);
    }

    [Fact]
    public async Task AcquireAll_MixedAlgorithms_AdmitsOnlyWhenEveryLevelHasRoom_ARefusalChargesNoLevel()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("tenant", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 5, Period = Hour }, Token);
        await hosts.PoliciesA.SetAsync("user", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 3, Period = Hour }, Token);
        await hosts.PoliciesA.SetAsync("endpoint", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Gcra, Limit = 10, Period = Hour, Burst = 2 }, Token);
        static RateLimitLevel[] Levels(string user, string endpoint) => [new("tenant", "all"), new("user", user), new("endpoint", $"{user}/{endpoint}")];
        var limiter = hosts.LimiterA;

        var first = await limiter.AcquireAllAsync(Levels("a", "orders"), permits: 2, cancellationToken: Token);
        var endpointFull = await limiter.AcquireAllAsync(Levels("a", "orders"), cancellationToken: Token);
        var second = await limiter.AcquireAllAsync(Levels("a", "export"), cancellationToken: Token);
        var userFull = await limiter.AcquireAllAsync(Levels("a", "search"), cancellationToken: Token);
        var third = await limiter.AcquireAllAsync(Levels("b", "orders"), permits: 2, cancellationToken: Token);
        var tenantFull = await limiter.AcquireAllAsync(Levels("c", "orders"), cancellationToken: Token);

        Assert.True(first.Allowed);
        Assert.Equal([3L, 1L, 0L], first.Levels.Select(l => l.Remaining));
        Assert.True(endpointFull is { Allowed: false, RefusedLevel: 2 });
        Assert.Equal([true, true, false], endpointFull.Levels.Select(l => l.Allowed));
        // Nothing was charged: the tenant and the user still have what they had.
        Assert.Equal([3L, 1L, 0L], endpointFull.Levels.Select(l => l.Remaining));
        Assert.True(endpointFull.RetryAfter > TimeSpan.FromMinutes(5), $"{endpointFull.RetryAfter}");
        Assert.True(second.Allowed);
        Assert.Equal([2L, 0L, 1L], second.Levels.Select(l => l.Remaining));
        Assert.True(userFull is { Allowed: false, RefusedLevel: 1 });
        Assert.True(third.Allowed);
        Assert.Equal(0, third.Levels[0].Remaining);
        Assert.True(tenantFull is { Allowed: false, RefusedLevel: 0 });
        Assert.Equal([false, true, true], tenantFull.Levels.Select(l => l.Allowed));

        // The sliding log holds exactly the five admitted permits; user c's bucket and endpoint were never touched.
        var admin = await hosts.AdminAsync();
        Assert.Equal(5, await admin.SortedSetLengthAsync(hosts.StateKey("tenant", RateLimitAlgorithm.SlidingLog, "all")));
        Assert.False(await admin.KeyExistsAsync(hosts.StateKey("user", RateLimitAlgorithm.TokenBucket, "c")));
        Assert.False(await admin.KeyExistsAsync(hosts.StateKey("endpoint", RateLimitAlgorithm.Gcra, "c/orders")));
        Assert.False(await admin.KeyExistsAsync(hosts.StateKey("endpoint", RateLimitAlgorithm.Gcra, "a/search")));
    }

    [Fact]
    public async Task AcquireAll_PermitsAboveOneLevelsLimit_NeverSucceeds_OtherLevelsUncharged()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("tenant", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 100, Period = Hour }, Token);
        await hosts.PoliciesA.SetAsync("user", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingWindow, Limit = 5, Period = Hour }, Token);

        var never = await hosts.LimiterA.AcquireAllAsync([new("tenant", "all"), new("user", "u")], permits: 6, cancellationToken: Token);

        Assert.True(never is { Allowed: false, RefusedLevel: 1 });
        Assert.Equal(Timeout.InfiniteTimeSpan, never.RetryAfter);
        Assert.NotNull(never.Levels[1].Reason);
        Assert.Null(never.Levels[0].Reason);
        Assert.Equal(100, never.Levels[0].Remaining);
        Assert.False(await (await hosts.AdminAsync()).KeyExistsAsync(hosts.StateKey("tenant", RateLimitAlgorithm.FixedWindow, "all")));
    }

    [Fact]
    public async Task AcquireAll_TenantsOverrideAndCriticalReserve_ApplyAtEveryLevel()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis, ("CriticalReserve", "0.2"));
        await hosts.PoliciesA.SetAsync("tenant", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 1_000, Period = Hour }, Token);
        await hosts.PoliciesA.SetOverrideAsync("tenant", "small", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 10, Period = Hour }, Token);
        await hosts.PoliciesA.SetAsync("user", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 100, Period = Hour }, Token);
        var limiter = hosts.A.Factory.ForTenant("small").RateLimits;
        RateLimitLevel[] levels = [new("tenant", "all"), new("user", "u")];

        var normal = new List<RateLimitHierarchyDecision>();
        for (var i = 0; i < 9; i++)
        {
            normal.Add(await limiter.AcquireAllAsync(levels, cancellationToken: Token));
        }

        var critical = await limiter.AcquireAllAsync(levels, permits: 2, priority: RateLimitPriority.Critical, cancellationToken: Token);

        // The override's 10, less a reserve of 2 for critical traffic: 8 normal requests, then the critical 2.
        Assert.Equal(8, normal.Count(d => d.Allowed));
        Assert.True(normal[^1] is { Allowed: false, RefusedLevel: 0 });
        Assert.Equal(10, normal[0].Levels[0].Limit);
        Assert.True(critical.Allowed);
        Assert.Equal([0L, 90L], critical.Levels.Select(l => l.Remaining));
    }

    [Fact]
    public async Task AcquireAll_InvalidLevels_ThrowArgumentException_UnknownPolicyNotFound_NothingCharged()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("tenant", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 10, Period = Hour }, Token);
        await hosts.PoliciesA.SetAsync("jobs", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 10, Period = Hour }, Token);
        var limiter = hosts.LimiterA;
        RateLimitLevel tenant = new("tenant", "all");

        await Assert.ThrowsAsync<ArgumentNullException>(() => limiter.AcquireAllAsync(null!, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => limiter.AcquireAllAsync([], cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => limiter.AcquireAllAsync([.. Enumerable.Range(0, 9).Select(i => new RateLimitLevel("tenant", $"k{i}"))], cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => limiter.AcquireAllAsync([tenant, new("tenant", "all")], cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => limiter.AcquireAllAsync([tenant, null!], cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => limiter.AcquireAllAsync([tenant, new("bad:policy", "u")], cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => limiter.AcquireAllAsync([tenant, new("tenant", "bad\nkey")], cancellationToken: Token).AsTask());
        var concurrency = await Assert.ThrowsAsync<ArgumentException>(() => limiter.AcquireAllAsync([tenant, new("jobs", "u")], cancellationToken: Token).AsTask());
        Assert.Contains("Concurrency", concurrency.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => limiter.AcquireAllAsync([tenant], permits: 0, cancellationToken: Token).AsTask());
        var missing = await Assert.ThrowsAsync<RateLimitPolicyNotFoundException>(() => limiter.AcquireAllAsync([tenant, new("nope", "u")], cancellationToken: Token).AsTask());
        Assert.Equal("nope", missing.Policy);

        // The same policy with different keys is two levels; eight levels are allowed.
        var eight = await limiter.AcquireAllAsync([.. Enumerable.Range(0, 8).Select(i => new RateLimitLevel("tenant", $"k{i}"))], cancellationToken: Token);
        Assert.True(eight.Allowed);
        Assert.All(eight.Levels, level => Assert.Equal(9, level.Remaining));
        Assert.False(await (await hosts.AdminAsync()).KeyExistsAsync(hosts.StateKey("tenant", RateLimitAlgorithm.FixedWindow, "all")));
    }

    [Fact]
    public async Task AcquireAll_RedisKilled_LocalLimiterDecidesAllOrNothingWithinTheShares()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await RateLimitFallbackTests.StartAsync(
            server,
            new EventCountingLoggerProvider(),
            ("Policies:tenant:Algorithm", "FixedWindow"),
            ("Policies:tenant:Limit", "10"),
            ("Policies:tenant:Period", "01:00:00"),
            ("Policies:user:Algorithm", "TokenBucket"),
            ("Policies:user:Limit", "6"),
            ("Policies:user:Period", "01:00:00"),
            ("Fallback:NodeCount", "2"));
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        Assert.True((await limiter.AcquireAllAsync([new("tenant", "all"), new("user", "warm-up")], cancellationToken: Token)).Allowed);

        await server.KillAsync();
        var a = await limiter.AcquireAllAsync([new("tenant", "all"), new("user", "a")], permits: 3, cancellationToken: Token);
        var b = await limiter.AcquireAllAsync([new("tenant", "all"), new("user", "b")], permits: 3, cancellationToken: Token);
        var aAgain = await limiter.AcquireAllAsync([new("tenant", "all"), new("user", "a")], permits: 2, cancellationToken: Token);

        // This node's shares: 5 of the tenant's 10, 3 of each user's 6. User b's refusal at the tenant level cost b nothing.
        Assert.All([a, b, aAgain], d => Assert.All(d.Levels, l => Assert.True(l.DecidedLocally)));
        Assert.True(a.Allowed);
        Assert.Equal([2L, 0L], a.Levels.Select(l => l.Remaining));
        Assert.True(b is { Allowed: false, RefusedLevel: 0 });
        Assert.Equal([2L, 3L], b.Levels.Select(l => l.Remaining));
        Assert.True(aAgain is { Allowed: false, RefusedLevel: 1 });
        Assert.True((await limiter.AcquireAllAsync([new("tenant", "all"), new("user", "b")], permits: 2, cancellationToken: Token)).Allowed);
    }
}
