using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>
/// Rate limiting while Redis is down: this node decides alone with its share of each limit (limit / NodeCount), logs
/// the outage once, counts the local decisions, and hands back to Redis once Redis answers again.
/// </summary>
public sealed class RateLimitFallbackTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcquireAsync_RedisKilled_DecidesLocallyWithinThisNodesShare_LogsOnce_ThenRedisDecidesAfterRestart()
    {
        await using var server = await RedisServer.StartAsync(Token);
        var logs = new EventCountingLoggerProvider();
        await using var host = await StartAsync(
            server,
            logs,
            ("Policies:api:Algorithm", "FixedWindow"),
            ("Policies:api:Limit", "300"),
            ("Policies:api:Period", "00:00:01"),
            ("Fallback:NodeCount", "3"));
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        using var localDecisions = new HostCounter(host, "coordination.ratelimit.local.decisions");
        Assert.False((await limiter.AcquireAsync("api", "client", cancellationToken: Token)).DecidedLocally);

        await server.KillAsync();
        var decisions = await SaturateAsync(limiter, "api", "client", callers: 16, TimeSpan.FromSeconds(3.5));

        Assert.All(decisions, d => Assert.True(d.Decision is { DecidedLocally: true, Limit: 100 }));
        // Group the admissions by the local window they were counted in (its end: arrival + ResetAfter, to the second).
        var perWindow = decisions.Where(d => d.Decision.Allowed)
            .GroupBy(d => (long)Math.Round((d.At + d.Decision.ResetAfter.TotalMilliseconds) / 1000.0))
            .OrderBy(g => g.Key)
            .Select(g => g.Count())
            .ToList();
        TestContext.Current.TestOutputHelper?.WriteLine($"{decisions.Count} local decisions; admitted per window: {string.Join(", ", perWindow)}");
        Assert.True(perWindow.Count >= 3, $"windows: {string.Join(", ", perWindow)}");
        Assert.All(perWindow, count => Assert.True(count <= 100, $"admitted per window: {string.Join(", ", perWindow)}"));
        // The windows the callers saturated from start to end admitted exactly the share.
        Assert.All(perWindow.Skip(1).SkipLast(1), count => Assert.Equal(100, count));
        Assert.Contains(decisions, d => !d.Decision.Allowed);
        Assert.Equal(1, logs.CountOf("RateLimitDecidingLocally"));
        Assert.Equal(decisions.Count, localDecisions.Total);

        await server.RestartAsync(Token);
        await ProcessUtil.WaitUntilAsync(
            async () => !(await limiter.AcquireAsync("api", "other", cancellationToken: Token)).DecidedLocally,
            TimeSpan.FromSeconds(20),
            "Redis to decide again",
            Token,
            TimeSpan.FromMilliseconds(100));

        // Redis counts the whole limit again, with nothing merged from the outage (the restarted server starts empty).
        var afterRestart = await limiter.AcquireAsync("api", "fresh", cancellationToken: Token);
        Assert.True(afterRestart is { DecidedLocally: false, Allowed: true, Limit: 300 });
        Assert.Equal(299, afterRestart.Remaining);
        Assert.Equal(1, logs.CountOf("RateLimitDecidingLocally"));
        Assert.Equal(1, logs.CountOf("RateLimitDecidingInRedisAgain"));
    }

    [Fact]
    public async Task AcquireAsync_ConcurrencyPolicyWhileRedisIsDown_HoldsLocalLeasesOfTheShare_ReleasedLocallyAfterRecovery()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await StartAsync(
            server,
            new EventCountingLoggerProvider(),
            ("Policies:jobs:Algorithm", "Concurrency"),
            ("Policies:jobs:Limit", "4"),
            ("Policies:jobs:Period", "00:05:00"),
            ("Fallback:NodeCount", "2"));
        var limiter = host.Services.GetRequiredService<IRateLimitService>();

        await server.KillAsync();
        var first = await limiter.AcquireAsync("jobs", "user-1", cancellationToken: Token);
        var second = await limiter.AcquireAsync("jobs", "user-1", cancellationToken: Token);
        var third = await limiter.AcquireAsync("jobs", "user-1", cancellationToken: Token);

        Assert.True(first is { Allowed: true, DecidedLocally: true, Limit: 2 });
        Assert.True(second is { Allowed: true, Remaining: 0 });
        Assert.True(third is { Allowed: false, LeaseId: null });
        Assert.StartsWith("local.", first.LeaseId, StringComparison.Ordinal);
        Assert.True(await limiter.ReleaseAsync("jobs", first.LeaseId!, Token));
        Assert.False(await limiter.ReleaseAsync("jobs", first.LeaseId!, Token));
        var afterRelease = await limiter.AcquireAsync("jobs", "user-1", cancellationToken: Token);
        Assert.True(afterRelease is { Allowed: true, DecidedLocally: true });

        await server.RestartAsync(Token);
        RateLimitDecision? fromRedis = null;
        await ProcessUtil.WaitUntilAsync(
            async () => !(fromRedis = await limiter.AcquireAsync("jobs", "user-1", cancellationToken: Token)).DecidedLocally,
            TimeSpan.FromSeconds(20),
            "Redis to decide again",
            Token,
            TimeSpan.FromMilliseconds(100));

        // Redis's lease is Redis's (the whole limit, not the share); the local leases are still released here.
        Assert.True(fromRedis is { Allowed: true, Limit: 4, Remaining: 3 });
        Assert.DoesNotContain("local.", fromRedis!.LeaseId, StringComparison.Ordinal);
        Assert.True(await limiter.ReleaseAsync("jobs", second.LeaseId!, Token));
        Assert.True(await limiter.ReleaseAsync("jobs", afterRelease.LeaseId!, Token));
        Assert.True(await limiter.ReleaseAsync("jobs", fromRedis.LeaseId!, Token));
    }

    [Fact]
    public async Task AcquireAsync_MoreKeysThanMaxLimitersWhileRedisIsDown_KeepsAtMostMaxLimiters_DropsTheLeastRecentlyUsed()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await StartAsync(
            server,
            new EventCountingLoggerProvider(),
            ("Policies:api:Algorithm", "SlidingLog"),
            ("Policies:api:Limit", "1"),
            ("Policies:api:Period", "01:00:00"),
            ("Fallback:MaxLimiters", "3"));
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        var local = host.Services.GetRequiredService<RateLimitRuntime>().Fallback.Limiter;
        async Task<bool> TakeAsync(string key)
        {
            var decision = await limiter.AcquireAsync("api", key, cancellationToken: Token);
            Assert.True(decision.DecidedLocally);
            return decision.Allowed;
        }

        await server.KillAsync();
        Assert.True(await TakeAsync("a"));
        Assert.True(await TakeAsync("b"));
        Assert.True(await TakeAsync("c"));
        Assert.False(await TakeAsync("a"));
        for (var key = 0; key < 50; key++)
        {
            Assert.True(await TakeAsync($"many-{key}"));
            Assert.True(local.Count <= 3);
        }

        Assert.Equal(3, local.Count);
        // "a" was dropped with the others: its count is forgotten, the newest keys' counts are kept.
        Assert.True(await TakeAsync("a"));
        Assert.False(await TakeAsync("many-49"));
    }

    [Fact]
    public async Task AcquireAsync_RedisKilledPastThePolicyRefresh_DecidesWithThePolicyLastRead_UnknownPolicyIsUnavailable()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await StartAsync(server, new EventCountingLoggerProvider(), ("PolicyRefreshInterval", "00:00:00.050"));
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        await host.Services.GetRequiredService<IRateLimitPolicies>().SetAsync(
            "set-at-run-time", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Gcra, Limit = 3, Period = TimeSpan.FromMinutes(1) }, Token);
        Assert.False((await limiter.AcquireAsync("set-at-run-time", "k", cancellationToken: Token)).DecidedLocally);

        await server.KillAsync();
        await Task.Delay(200, Token);
        var decisions = new List<RateLimitDecision>();
        for (var call = 0; call < 5; call++)
        {
            decisions.Add(await limiter.AcquireAsync("set-at-run-time", "k", cancellationToken: Token));
        }

        Assert.All(decisions, d => Assert.True(d is { DecidedLocally: true, Limit: 3 }));
        Assert.Equal(3, decisions.Count(d => d.Allowed));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await limiter.AcquireAsync("never-seen", "k", cancellationToken: Token));
    }

    [Fact]
    public async Task AcquireAsync_TenantOverrideReadBeforeTheOutage_IsTheLimitDecidedLocally()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await StartAsync(
            server,
            new EventCountingLoggerProvider(),
            ("Policies:api:Algorithm", "FixedWindow"),
            ("Policies:api:Limit", "100"),
            ("Policies:api:Period", "01:00:00"),
            ("Fallback:NodeCount", "2"));
        await host.Services.GetRequiredService<IRateLimitPolicies>().SetOverrideAsync(
            "api", "gold", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 10, Period = TimeSpan.FromHours(1) }, Token);
        var gold = host.Factory.ForTenant("gold").RateLimits;
        var other = host.Factory.ForTenant("silver").RateLimits;
        Assert.Equal(10, (await gold.AcquireAsync("api", "k", cancellationToken: Token)).Limit);
        Assert.Equal(100, (await other.AcquireAsync("api", "k", cancellationToken: Token)).Limit);

        await server.KillAsync();
        var goldDecisions = new List<RateLimitDecision>();
        for (var call = 0; call < 8; call++)
        {
            goldDecisions.Add(await gold.AcquireAsync("api", "k", cancellationToken: Token));
        }

        Assert.All(goldDecisions, d => Assert.True(d is { DecidedLocally: true, Limit: 5 }));
        Assert.Equal(5, goldDecisions.Count(d => d.Allowed));
        Assert.True(await other.AcquireAsync("api", "k", cancellationToken: Token) is { DecidedLocally: true, Limit: 50, Remaining: 49 });
    }

    [Fact]
    public async Task AcquireAsync_FallbackDisabled_RedisKilled_ThrowsUnavailable()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await StartAsync(
            server,
            new EventCountingLoggerProvider(),
            ("Policies:api:Algorithm", "TokenBucket"),
            ("Policies:api:Limit", "10"),
            ("Policies:api:Period", "00:00:01"),
            ("Fallback:Enabled", "false"));
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        Assert.True((await limiter.AcquireAsync("api", "k", cancellationToken: Token)).Allowed);

        await server.KillAsync();

        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await limiter.AcquireAsync("api", "k", cancellationToken: Token));
    }

    internal static Task<CoordinationTestHost> StartAsync(RedisServer server, EventCountingLoggerProvider logs, params (string Key, string Value)[] settings) =>
        CoordinationTestHost.StartAsync(
            server.ConnectionString,
            settings:
            [
                new("Coordination:Resilience:AttemptTimeout", "00:00:00.200"),
                new("Coordination:Resilience:MinimumThroughput", "5"),
                new("Coordination:Resilience:BreakDuration", "00:00:00.500"),
                new("Coordination:RateLimiting:PolicyRefreshInterval", "00:10:00"),
                .. settings.Select(s => new KeyValuePair<string, string?>("Coordination:RateLimiting:" + s.Key, s.Value)),
            ],
            services: services => services.AddLogging(logging => logging.AddProvider(logs)));

    internal static async Task<List<(long At, RateLimitDecision Decision)>> SaturateAsync(IRateLimitService limiter, string policy, string key, int callers, TimeSpan duration)
    {
        var decisions = new List<(long, RateLimitDecision)>[callers];
        var end = DateTimeOffset.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(
            async () =>
            {
                var mine = decisions[caller] = [];
                while (DateTimeOffset.UtcNow < end)
                {
                    var decision = await limiter.AcquireAsync(policy, key, cancellationToken: Token);
                    mine.Add((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), decision));
                }
            },
            Token)));
        return [.. decisions.SelectMany(d => d)];
    }
}
