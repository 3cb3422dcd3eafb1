using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>
/// Rate limiting while Redis is unavailable: no local fallback limiter yet, so a decision fails with
/// <see cref="CoordinationUnavailableException"/> (never an admission nobody counted), and works again once Redis does.
/// </summary>
public sealed class RateLimitOutageTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcquireAsync_RedisKilled_ThrowsUnavailable_ThenDecidesAgainAfterRestart()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(
            server.ConnectionString,
            settings:
            [
                new("Coordination:Resilience:AttemptTimeout", "00:00:00.200"),
                new("Coordination:Resilience:MinimumThroughput", "5"),
                new("Coordination:Resilience:BreakDuration", "00:00:01"),
                new("Coordination:RateLimiting:Policies:api:Algorithm", "FixedWindow"),
                new("Coordination:RateLimiting:Policies:api:Limit", "5"),
                new("Coordination:RateLimiting:Policies:api:Period", "00:01:00"),
                new("Coordination:RateLimiting:PolicyRefreshInterval", "00:10:00"),
                new("Coordination:RateLimiting:Fallback:Enabled", "false"),
            ]);
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        Assert.True((await limiter.AcquireAsync("api", "client-1", permits: 2, cancellationToken: Token)).Allowed);

        await server.KillAsync();
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await limiter.AcquireAsync("api", "client-1", cancellationToken: Token));

        await server.RestartAsync(Token);
        RateLimitDecision? decision = null;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    decision = await limiter.AcquireAsync("api", "client-1", cancellationToken: Token);
                    return true;
                }
                catch (CoordinationUnavailableException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(20),
            "Redis to decide again",
            Token,
            TimeSpan.FromMilliseconds(100));

        // The restarted server has no persistence: the count starts over in a fresh window.
        Assert.True(decision is { Allowed: true, Remaining: 4 });
    }
}
