using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>
/// Priority shedding (<see cref="RateLimitingOptions.CriticalReserve"/>): near a key's limit, the last permits of the
/// reserve go only to critical requests, in every script and in the local limiter that decides while Redis is down.
/// </summary>
public sealed class RateLimitPriorityTests(SharedRedisFixture redis)
{
    public static readonly TheoryData<RateLimitAlgorithm> Algorithms = new(Enum.GetValues<RateLimitAlgorithm>());

    private static readonly TimeSpan Period = TimeSpan.FromHours(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Algorithms))]
    public async Task AcquireAsync_ReserveOfTwoTenths_NormalGetsEight_CriticalTheLastTwo(RateLimitAlgorithm algorithm)
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis, ("CriticalReserve", "0.2"));
        await hosts.PoliciesA.SetAsync("api", new RateLimitPolicy { Algorithm = algorithm, Limit = 10, Period = Period }, Token);

        // Half on each node: the reserve is kept in Redis, not per node.
        for (var i = 1; i <= 8; i++)
        {
            var normal = await (i % 2 == 0 ? hosts.LimiterA : hosts.LimiterB).AcquireAsync("api", "client", cancellationToken: Token);
            Assert.True(normal.Allowed, $"normal request {i} was refused");
            Assert.Equal(8 - i, normal.Remaining);
        }

        var shed = await hosts.LimiterA.AcquireAsync("api", "client", cancellationToken: Token);
        Assert.False(shed.Allowed, "a normal request was admitted into the critical reserve");
        Assert.Equal(0, shed.Remaining);
        Assert.Null(shed.Reason);
        Assert.True(shed.RetryAfter > TimeSpan.Zero, $"retry after {shed.RetryAfter}");

        // The refusal charged nothing: the reserve is whole for critical traffic.
        var first = await hosts.LimiterB.AcquireAsync("api", "client", priority: RateLimitPriority.Critical, cancellationToken: Token);
        var second = await hosts.LimiterA.AcquireAsync("api", "client", priority: RateLimitPriority.Critical, cancellationToken: Token);
        var overLimit = await hosts.LimiterA.AcquireAsync("api", "client", priority: RateLimitPriority.Critical, cancellationToken: Token);
        var normalAgain = await hosts.LimiterB.AcquireAsync("api", "client", cancellationToken: Token);

        Assert.True(first is { Allowed: true, Remaining: 1 }, $"first critical: {first}");
        Assert.True(second is { Allowed: true, Remaining: 0 }, $"second critical: {second}");
        Assert.False(overLimit.Allowed, "a critical request was admitted over the limit");
        Assert.True(overLimit.RetryAfter > TimeSpan.Zero, $"retry after {overLimit.RetryAfter}");
        Assert.False(normalAgain.Allowed);
        // A normal caller is told when a normal request can succeed, never sooner than a critical one (asked a moment
        // later, so up to that moment less for the algorithms where both wait for the same instant).
        Assert.True(normalAgain.RetryAfter + TimeSpan.FromSeconds(1) >= overLimit.RetryAfter, $"normal {normalAgain.RetryAfter}, critical {overLimit.RetryAfter}");
        if (algorithm is RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra)
        {
            // A permit refills every 6 minutes: a critical request needs one, a normal one three (its own and the reserve's two).
            Assert.InRange(overLimit.RetryAfter, TimeSpan.FromMinutes(6) - TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(6));
            Assert.InRange(normalAgain.RetryAfter, TimeSpan.FromMinutes(18) - TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(18));
        }
    }

    [Fact]
    public async Task AcquireAsync_ConcurrencyReserve_NormalHoldsEightLeases_ReleasingThemLetsNormalInAgain()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis, ("CriticalReserve", "0.2"));
        await hosts.PoliciesA.SetAsync("jobs", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 10, Period = Period }, Token);

        var normal = await hosts.LimiterA.AcquireAsync("jobs", "worker", permits: 8, cancellationToken: Token);
        var shed = await hosts.LimiterB.AcquireAsync("jobs", "worker", cancellationToken: Token);
        var critical = await hosts.LimiterB.AcquireAsync("jobs", "worker", permits: 2, priority: RateLimitPriority.Critical, cancellationToken: Token);
        var overLimit = await hosts.LimiterA.AcquireAsync("jobs", "worker", priority: RateLimitPriority.Critical, cancellationToken: Token);

        Assert.True(normal is { Allowed: true, Remaining: 0 }, $"normal: {normal}");
        Assert.False(shed.Allowed, "a normal lease was granted out of the critical reserve");
        Assert.True(shed.RetryAfter > TimeSpan.Zero, $"retry after {shed.RetryAfter}");
        Assert.True(critical is { Allowed: true, Remaining: 0 }, $"critical: {critical}");
        Assert.False(overLimit.Allowed, "a critical lease was granted over the limit");

        // With the normal leases back, normal traffic may hold 8 - 2 (the critical ones still held count against it too).
        Assert.True(await hosts.LimiterA.ReleaseAsync("jobs", normal.LeaseId!, Token));
        var tooMany = await hosts.LimiterB.AcquireAsync("jobs", "worker", permits: 7, cancellationToken: Token);
        var afterRelease = await hosts.LimiterB.AcquireAsync("jobs", "worker", permits: 6, cancellationToken: Token);
        Assert.True(tooMany is { Allowed: false, Remaining: 6 }, $"7 after release: {tooMany}");
        Assert.True(afterRelease is { Allowed: true, Remaining: 0 }, $"6 after release: {afterRelease}");
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.Concurrency)]
    public async Task AcquireAsync_RedisKilled_LocalLimiterKeepsTheReserveForCriticalTraffic(RateLimitAlgorithm algorithm)
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await RateLimitFallbackTests.StartAsync(
            server,
            new EventCountingLoggerProvider(),
            ("CriticalReserve", "0.2"),
            ("Policies:api:Algorithm", algorithm.ToString()),
            ("Policies:api:Limit", "10"),
            ("Policies:api:Period", "01:00:00"),
            ("Fallback:NodeCount", "1"));
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        Assert.False((await limiter.AcquireAsync("api", "warm-up", cancellationToken: Token)).DecidedLocally);

        await server.KillAsync();
        for (var i = 1; i <= 8; i++)
        {
            var normal = await limiter.AcquireAsync("api", "client", cancellationToken: Token);
            Assert.True(normal is { Allowed: true, DecidedLocally: true }, $"normal request {i}: {normal}");
            Assert.Equal(8 - i, normal.Remaining);
        }

        var shed = await limiter.AcquireAsync("api", "client", cancellationToken: Token);
        var first = await limiter.AcquireAsync("api", "client", priority: RateLimitPriority.Critical, cancellationToken: Token);
        var second = await limiter.AcquireAsync("api", "client", priority: RateLimitPriority.Critical, cancellationToken: Token);
        var overLimit = await limiter.AcquireAsync("api", "client", priority: RateLimitPriority.Critical, cancellationToken: Token);

        Assert.True(shed is { Allowed: false, DecidedLocally: true, Remaining: 0 }, $"shed: {shed}");
        Assert.True(shed.RetryAfter > TimeSpan.Zero, $"retry after {shed.RetryAfter}");
        Assert.True(first is { Allowed: true, Remaining: 1 }, $"first critical: {first}");
        Assert.True(second is { Allowed: true, Remaining: 0 }, $"second critical: {second}");
        Assert.True(overLimit is { Allowed: false, DecidedLocally: true }, $"over the limit: {overLimit}");
        Assert.True(overLimit.RetryAfter > TimeSpan.Zero, $"retry after {overLimit.RetryAfter}");
    }
}
