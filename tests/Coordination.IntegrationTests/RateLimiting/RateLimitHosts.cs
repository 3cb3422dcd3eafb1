using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>
/// Two hosts (two processes' worth of connections) on one server under one key prefix: one platform with two nodes,
/// as the rate-limit tests need to show that the limit holds across nodes.
/// </summary>
internal sealed class RateLimitHosts(CoordinationTestHost a, CoordinationTestHost b, IRedisTarget server) : IAsyncDisposable
{
    public CoordinationTestHost A => a;

    public CoordinationTestHost B => b;

    public IRedisTarget Server => server;

    public IRateLimitService LimiterA => a.Services.GetRequiredService<IRateLimitService>();

    public IRateLimitService LimiterB => b.Services.GetRequiredService<IRateLimitService>();

    public IRateLimitPolicies PoliciesA => a.Services.GetRequiredService<IRateLimitPolicies>();

    public IRateLimitPolicies PoliciesB => b.Services.GetRequiredService<IRateLimitPolicies>();

    public static async Task<RateLimitHosts> StartAsync(IRedisTarget server, params (string Key, string Value)[] settings)
    {
        var prefix = TestKeys.NewPrefix();
        var configuration = settings.Select(s => new KeyValuePair<string, string?>("Coordination:RateLimiting:" + s.Key, s.Value)).ToArray();
        var a = await CoordinationTestHost.StartAsync(server.ConnectionString, prefix, configuration, hostName: "A");
        try
        {
            return new RateLimitHosts(a, await CoordinationTestHost.StartAsync(server.ConnectionString, prefix, configuration, hostName: "B"), server);
        }
        catch
        {
            await a.DisposeAsync();
            throw;
        }
    }

    /// <summary>Redis's clock in ms, the clock the scripts count with.</summary>
    public async Task<long> RedisNowAsync()
    {
        var time = await server.TimeAsync();
        return new DateTimeOffset(time, TimeSpan.Zero).ToUnixTimeMilliseconds();
    }

    /// <summary>
    /// Waits for the next aligned window of <paramref name="period"/> when the current one ends within 5 s, so a test
    /// that counts one window is not split across two.
    /// </summary>
    public async Task WaitOutWindowEdgeAsync(TimeSpan period, CancellationToken cancellationToken)
    {
        var length = (long)period.TotalMilliseconds;
        var left = length - (await RedisNowAsync() % length);
        if (left < 5_000)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(left + 10), cancellationToken);
        }
    }

    public async Task<IDatabase> AdminAsync() => (await server.GetAdminAsync()).GetDatabase();

    /// <summary>The Redis key of <paramref name="key"/>'s state under <paramref name="policy"/> for the default tenant.</summary>
    public string StateKey(string policy, RateLimitAlgorithm algorithm, string key, string tenant = "default") =>
        $"{a.KeyPrefix}:{tenant}:ratelimit:{{{a.KeyPrefix}:{tenant}}}:{policy}:{RateLimitingMetrics.TagOf(algorithm)}:{key}";

    /// <summary>
    /// Runs <paramref name="callers"/> callers, half on each host, each acquiring one permit after another until
    /// <paramref name="duration"/> has passed, and returns every decision with the client's Unix ms when it was asked
    /// for and when it arrived (Redis decided in between).
    /// </summary>
    public async Task<List<(long Sent, long At, RateLimitDecision Decision)>> SaturateAsync(string policy, string key, int callers, TimeSpan duration, CancellationToken cancellationToken)
    {
        var decisions = new List<(long, long, RateLimitDecision)>[callers];
        var end = DateTimeOffset.UtcNow + duration;
        await Task.WhenAll(Enumerable.Range(0, callers).Select(caller => Task.Run(
            async () =>
            {
                var limiter = caller % 2 == 0 ? LimiterA : LimiterB;
                var mine = decisions[caller] = [];
                while (DateTimeOffset.UtcNow < end)
                {
                    var sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                    var decision = await limiter.AcquireAsync(policy, key, cancellationToken: cancellationToken);
                    mine.Add((sent, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), decision));
                }
            },
            cancellationToken)));
        return [.. decisions.SelectMany(d => d)];
    }

    public async ValueTask DisposeAsync()
    {
        await a.DisposeAsync();
        await b.DisposeAsync();
    }
}
