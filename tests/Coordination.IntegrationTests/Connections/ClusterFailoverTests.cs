using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Connections;

/// <summary>
/// The coordinator on a real Redis Cluster of three primaries and three replicas: the primary of a slot killed while
/// 16 callers set and get keys of every slot. The replica takes the slots over, the coordinator follows it, callers
/// see only <see cref="CoordinationUnavailableException"/> meanwhile (and only for the keys of that primary), and
/// everything succeeds once the failover has settled.
/// </summary>
[Collection(nameof(FaultTimingTests))]
public sealed class ClusterFailoverTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task PrimaryOfASlotKilledUnderLoad_ReplicaTakesOver_CoordinatorFollows_FailuresTypedOnly()
    {
        var maxRecovery = TimeSpan.FromSeconds(20);
        const int Workers = 16;
        await using var cluster = await RedisCluster.StartWithReplicasAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(cluster.ConnectionString);
        var coordinator = host.Coordinator;
        await coordinator.SetAsync("probe", 0, cancellationToken: Token);
        var probeKey = await FindFullKeyAsync(cluster, ":probe");
        var killedPort = await cluster.PrimaryPortOfAsync(probeKey, Token) ?? throw new InvalidOperationException("The probe's slot has no primary.");

        await using var load = FailoverLoad.Start(host, Workers, keysPerWorker: 64);
        var clock = load.Clock;
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        var killedAt = clock.Elapsed;
        await cluster.Nodes.Single(n => n.Port == killedPort).KillAsync();

        await ProcessUtil.WaitUntilAsync(
            async () => await cluster.PrimaryPortOfAsync(probeKey, Token) is { } port && port != killedPort,
            maxRecovery,
            "the replica to take over the killed primary's slots",
            Token,
            TimeSpan.FromMilliseconds(50));
        var promotedAt = clock.Elapsed;
        long servedAt = 0;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await coordinator.SetAsync("probe", 1, cancellationToken: Token);
                    servedAt = clock.ElapsedTicks;
                    return true;
                }
                catch (CoordinationUnavailableException)
                {
                    return false;
                }
            },
            maxRecovery,
            "the probe key served by the promoted replica",
            Token,
            TimeSpan.FromMilliseconds(10));
        var served = TimeSpan.FromTicks(servedAt * TimeSpan.TicksPerSecond / Stopwatch.Frequency);

        // Settled (FailoverLoad.WaitUntilSettledAsync): from then on, every call succeeds.
        var steadyFrom = await load.WaitUntilSettledAsync(served, maxRecovery, Token);
        await load.StopAsync();

        var all = load.Calls.ToArray();
        var duringOutage = all.Where(c => c.Started >= killedAt && c.Started < promotedAt).ToArray();
        Output.WriteLine($"[measure] cluster failover: calls={all.Length} failed={all.Count(c => !c.Succeeded)}; kill to promotion {(promotedAt - killedAt).TotalMilliseconds:F0} ms; promotion to the probe served {(served - promotedAt).TotalMilliseconds:F0} ms; settled {(steadyFrom - served).TotalMilliseconds:F0} ms after it; calls started during the outage that succeeded: {duringOutage.Count(c => c.Succeeded)} of {duringOutage.Length}");
        foreach (var ex in load.Unexpected.Take(5))
        {
            Output.WriteLine($"[unexpected] {ex}");
        }

        foreach (var group in load.Failures.GroupBy(f => f.Error.Length > 160 ? f.Error[..160] : f.Error).OrderByDescending(g => g.Count()).Take(8))
        {
            Output.WriteLine($"[failures] {group.Count()} x {group.Key}");
        }

        foreach (var (started, error) in load.Failures.Where(f => f.Started >= steadyFrom).Take(5))
        {
            Output.WriteLine($"[failed after the settle, started {started}] {error}");
        }

        Assert.Empty(load.Unexpected);
        Assert.InRange(served - killedAt, TimeSpan.Zero, maxRecovery);
        var late = all.Where(c => c.Started >= steadyFrom).ToArray();
        Assert.NotEmpty(late);
        Assert.All(late, c => Assert.True(c.Succeeded, $"a call started at {c.Started} failed after the failover settled"));
        Assert.Equal(1, (await coordinator.GetAsync<int>("probe", Token)).Value);
        foreach (var (key, (value, at)) in load.Acknowledged.Where(a => a.Value.At > served))
        {
            Assert.Equal(value, (await coordinator.GetAsync<int>(key, Token)).Value);
        }
    }

    [Fact]
    public async Task PrimaryKilled_ItsSlotsUnwritable_WritesOfTheOtherNodesKeysKeepSucceeding()
    {
        // Three primaries with a replica each, kept from taking over (cluster-replica-no-failover), that keep serving
        // their slots while another's primary is down (cluster-require-full-coverage no): writes of the killed
        // primary's keys fail at once (the client has no writable node for them). Most callers use those keys, so a
        // single circuit for all nodes would open on their failures and refuse the other nodes' calls too; the killed
        // node's own circuit refuses only its keys.
        const int DeadCallers = 12;
        const int HealthyCallers = 4;
        await using var cluster = await RedisCluster.StartWithReplicasAsync(Token);
        foreach (var node in cluster.Nodes)
        {
            await ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", node.Port.ToString(CultureInfo.InvariantCulture), "config", "set", "cluster-node-timeout", "15000"], TimeSpan.FromSeconds(5), Token);
        }

        await using var host = await CoordinationTestHost.StartAsync(cluster.ConnectionString);
        var coordinator = host.Coordinator;
        var admin = await cluster.GetAdminAsync();
        var keys = Enumerable.Range(0, 96).Select(i => $"k{i}").ToArray();
        var killedEndPoint = admin.GetServer((StackExchange.Redis.RedisKey)host.RedisKey(keys[0]), flags: StackExchange.Redis.CommandFlags.DemandMaster).EndPoint;
        var dead = keys.Where(k => admin.GetServer((StackExchange.Redis.RedisKey)host.RedisKey(k), flags: StackExchange.Redis.CommandFlags.DemandMaster).EndPoint.Equals(killedEndPoint)).ToArray();
        var healthy = keys.Except(dead).ToArray();
        foreach (var key in keys)
        {
            await coordinator.SetAsync(key, 0, cancellationToken: Token);
        }

        var killed = cluster.Nodes.Single(n => n.ConnectionString == ToAddress(killedEndPoint));
        await killed.KillAsync();
        var outcomes = new ConcurrentQueue<(bool Healthy, bool Succeeded, string? Error)>();
        var until = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, DeadCallers + HealthyCallers).Select(caller => Task.Run(async () =>
        {
            var mine = caller < DeadCallers ? dead : healthy;
            for (var i = 0; until.Elapsed < TimeSpan.FromSeconds(3); i++)
            {
                var key = mine[i % mine.Length];
                try
                {
                    await coordinator.SetAsync(key, i, cancellationToken: Token);
                    outcomes.Enqueue((caller >= DeadCallers, true, null));
                }
                catch (CoordinationUnavailableException ex)
                {
                    outcomes.Enqueue((caller >= DeadCallers, false, ex.Reason.ToString()));
                }
            }
        }, Token)));

        var healthyCalls = outcomes.Where(o => o.Healthy).ToArray();
        var deadCalls = outcomes.Where(o => !o.Healthy).ToArray();
        Output.WriteLine($"[measure] primary killed, not replaced: writes of the other nodes' keys {healthyCalls.Count(o => o.Succeeded)} of {healthyCalls.Length} succeeded; of its own keys {deadCalls.Count(o => o.Succeeded)} of {deadCalls.Length} ({string.Join(", ", deadCalls.Where(o => !o.Succeeded).GroupBy(o => o.Error).Select(g => $"{g.Key} {g.Count()}"))}); the other nodes' failures: {string.Join(", ", healthyCalls.Where(o => !o.Succeeded).GroupBy(o => o.Error).Select(g => $"{g.Key} {g.Count()}"))}");
        Assert.NotEmpty(dead);
        Assert.NotEmpty(healthy);
        Assert.DoesNotContain(deadCalls, o => o.Succeeded);
        Assert.True(healthyCalls.Count(o => o.Succeeded) >= healthyCalls.Length * 0.99, "the other nodes' keys were not served");
    }

    private static string ToAddress(System.Net.EndPoint endPoint) =>
        endPoint is System.Net.IPEndPoint ip ? $"{ip.Address}:{ip.Port}" : endPoint.ToString()!;

    private static async Task<string> FindFullKeyAsync(RedisCluster cluster, string suffix)
    {
        foreach (var node in cluster.Nodes)
        {
            var keys = await ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", node.Port.ToString(CultureInfo.InvariantCulture), "--scan", "--pattern", "*" + suffix], TimeSpan.FromSeconds(5), Token);
            var key = keys.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
            if (key is not null)
            {
                return key;
            }
        }

        throw new InvalidOperationException($"No node holds a key ending in {suffix}.");
    }
}
