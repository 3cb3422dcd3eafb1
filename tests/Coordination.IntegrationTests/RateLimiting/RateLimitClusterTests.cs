using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>
/// Rate limiting on a real Redis Cluster: every decision touches one key in its tenant's slot, and the policy scripts
/// touch the platform's keys in one slot of their own, so every call (an acquisition over several levels of a tenant
/// included) works whichever node owns the tenant.
/// </summary>
public sealed class RateLimitClusterTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryAlgorithmAndPolicyCall_OnAClusterOfThreePrimaries_WorksForTenantsOnEveryNode()
    {
        await using var cluster = await RedisCluster.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(cluster.ConnectionString);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var policies = host.Services.GetRequiredService<IRateLimitPolicies>();
        foreach (var algorithm in Enum.GetValues<RateLimitAlgorithm>())
        {
            await policies.SetAsync(algorithm.ToString(), new RateLimitPolicy { Algorithm = algorithm, Limit = 3, Period = TimeSpan.FromHours(1) }, Token);
        }

        var nodesUsed = new HashSet<string>(StringComparer.Ordinal);
        for (var t = 0; t < 12; t++)
        {
            var tenant = $"tenant-{t}";
            await policies.SetOverrideAsync(nameof(RateLimitAlgorithm.FixedWindow), tenant, new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 2, Period = TimeSpan.FromHours(1) }, Token);
            var limiter = host.Factory.ForTenant(tenant).RateLimits;
            foreach (var algorithm in Enum.GetValues<RateLimitAlgorithm>())
            {
                var limit = algorithm == RateLimitAlgorithm.FixedWindow ? 2 : 3;
                var all = await limiter.AcquireAsync(algorithm.ToString(), "client-1", permits: limit, cancellationToken: Token);
                var over = await limiter.AcquireAsync(algorithm.ToString(), "client-1", cancellationToken: Token);
                Assert.True(all.Allowed, $"{tenant} {algorithm}");
                Assert.False(over.Allowed, $"{tenant} {algorithm}");
                if (algorithm == RateLimitAlgorithm.Concurrency)
                {
                    Assert.True(await limiter.ReleaseAsync(algorithm.ToString(), all.LeaseId!, Token));
                }
            }

            // One all-or-nothing acquisition over five levels of the tenant: one script, its keys in the tenant's slot.
            RateLimitLevel[] levels = [.. Enum.GetValues<RateLimitAlgorithm>()
                .Where(algorithm => algorithm != RateLimitAlgorithm.Concurrency)
                .Select(algorithm => new RateLimitLevel(algorithm.ToString(), "levels"))];
            var both = await limiter.AcquireAllAsync(levels, permits: 2, cancellationToken: Token);
            var beyondTheFixedWindow = await limiter.AcquireAllAsync(levels, cancellationToken: Token);
            Assert.True(both.Allowed, tenant);
            Assert.Equal(5, both.Levels.Count);
            Assert.False(beyondTheFixedWindow.Allowed, tenant);
            Assert.Equal(0, beyondTheFixedWindow.RefusedLevel);
            Assert.All(beyondTheFixedWindow.Levels.Skip(1), level => Assert.Equal(1, level.Remaining));

            var key = $"{host.KeyPrefix}:{tenant}:ratelimit:{{{host.KeyPrefix}:{tenant}}}:FixedWindow:fixed_window:client-1";
            Assert.True(await admin.GetDatabase().KeyExistsAsync(key));
            nodesUsed.Add(admin.GetDatabase().IdentifyEndpoint(key)!.ToString()!);
        }

        Assert.Equal(3, nodesUsed.Count);
    }
}
