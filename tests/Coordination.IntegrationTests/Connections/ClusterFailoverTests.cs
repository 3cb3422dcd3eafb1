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
        var steadyFrom = await load.WaitUntilSettledAsync(served, killedPort, maxRecovery, Token);
        await load.StopAsync();

        var all = load.Calls.ToArray();
        var duringOutage = all.Where(c => c.Started >= killedAt && c.Started < promotedAt).ToArray();
        Output.WriteLine($"[measure] cluster failover: calls={all.Length} failed={all.Count(c => !c.Succeeded)}; kill to promotion {(promotedAt - killedAt).TotalMilliseconds:F0} ms; promotion to the probe served {(served - promotedAt).TotalMilliseconds:F0} ms; settled {(steadyFrom - served).TotalMilliseconds:F0} ms after it; calls started during the outage that succeeded: {duringOutage.Count(c => c.Succeeded)} of {duringOutage.Length}");
        load.WriteFailures(Output, steadyFrom);

        Assert.Empty(load.Unexpected);
        Assert.InRange(served - killedAt, TimeSpan.Zero, maxRecovery);
        var late = all.Where(c => c.Started >= steadyFrom).ToArray();
        Assert.NotEmpty(late);
        Assert.All(late, c => Assert.True(c.Succeeded, $"a call started at {c.Started} failed after the failover settled"));
        Assert.Equal(1, (await coordinator.GetAsync<int>("probe", Token)).Value);
        foreach (var (key, (value, at)) in load.Acknowledged.Where(a => a.Value.At > served))
        {
            var read = await coordinator.GetAsync<int>(key, Token);
            Assert.True(read.Value == value, $"'{key}' acknowledged as {value} at {at} (probe served at {served}) read back as {read.Value}");
        }
    }

    [Fact]
    public async Task PrimaryKilledUnderLoad_NoneTakesOver_TheOtherNodesKeysKeepBeingServed()
    {
        // 16 callers write keys of every node; one primary is killed and nothing takes its slots over for the test's
        // length (no replica, node timeout 15 s). The calls in flight to it fail together, and so do its reconnection
        // attempts: a circuit shared by all nodes opens on them and refuses the other nodes' calls too. The killed
        // node's own circuit refuses its keys only.
        const int Callers = 16;
        await using var setup = await NodeFaultSetup.StartAsync();
        var (coordinator, keys, killed) = (setup.Host.Coordinator, setup.Keys, setup.Node);
        var onKilled = keys.Select(setup.IsOnNode).ToArray();
        var outcomes = new ConcurrentQueue<NodeCall>();
        var clock = Stopwatch.StartNew();
        var killStartedAt = TimeSpan.MaxValue;
        var deadFrom = TimeSpan.MaxValue;
        var load = Task.WhenAll(Enumerable.Range(0, Callers).Select(caller => Task.Run(async () =>
        {
            for (var i = caller; clock.Elapsed < TimeSpan.FromSeconds(5); i++)
            {
                var key = i % keys.Length;
                var started = clock.Elapsed;
                try
                {
                    await coordinator.SetAsync(keys[key], i, cancellationToken: Token);
                    if (started >= killStartedAt)
                    {
                        outcomes.Enqueue(new(!onKilled[key], true, null, started));
                    }
                }
                catch (CoordinationUnavailableException ex)
                {
                    Assert.True(started >= killStartedAt || clock.Elapsed >= killStartedAt, $"a call failed before the kill: {ex}");
                    outcomes.Enqueue(new(!onKilled[key], false, ex.Reason.ToString(), started));
                }
            }
        }, Token)));
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        killStartedAt = clock.Elapsed;
        await killed.KillAsync();
        deadFrom = clock.Elapsed;
        await load;

        var healthyCalls = outcomes.Where(o => o.Healthy).ToArray();
        var killedCalls = outcomes.Where(o => !o.Healthy).ToArray();
        Output.WriteLine($"[measure] primary killed under load, not replaced, 4 s: the other nodes' keys {healthyCalls.Count(o => o.Succeeded)} of {healthyCalls.Length} served ({Reasons(healthyCalls)}); the killed node's {killedCalls.Count(o => o.Succeeded)} of {killedCalls.Length} ({Reasons(killedCalls)})");
        Assert.DoesNotContain(killedCalls, o => o.Succeeded && o.Started >= deadFrom);
        Assert.All(healthyCalls, o => Assert.True(o.Succeeded, $"a healthy node's call failed: {o.Error}"));
    }

    [Fact]
    public async Task OneNodeBusy_ItsCallsRefused_TheOtherNodesKeysKeepBeingServed()
    {
        // A script that never yields on one primary (busy-reply-threshold 10 ms): that node answers every call BUSY at
        // once, until SCRIPT KILL. Its own circuit opens and refuses its keys at once, the other nodes' keys staying
        // served. (One circuit for all nodes never opens here: each failure comes after its retries, too few beside the
        // other nodes' successes, so every caller of the busy node's keys waits through all its retries.)
        const int BusyCallers = 12;
        const int HealthyCallers = 4;
        await using var setup = await NodeFaultSetup.StartAsync();
        var coordinator = setup.Host.Coordinator;
        var busyKeys = setup.Keys.Where(setup.IsOnNode).ToArray();
        var healthyKeys = setup.Keys.Except(busyKeys).ToArray();
        var busyPort = setup.Node.Port.ToString(CultureInfo.InvariantCulture);
        await ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", busyPort, "config", "set", "busy-reply-threshold", "10"], TimeSpan.FromSeconds(5), Token);
        var script = Task.Run(() => ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", busyPort, "eval", "while true do end", "0"], TimeSpan.FromSeconds(30), Token), Token);
        await ProcessUtil.WaitUntilAsync(
            async () => (await ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", busyPort, "ping"], TimeSpan.FromSeconds(5), Token)).StartsWith("BUSY", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10),
            "the node to answer BUSY",
            Token);

        var outcomes = new ConcurrentQueue<NodeCall>();
        var until = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, BusyCallers + HealthyCallers).Select(caller => Task.Run(async () =>
        {
            var mine = caller < BusyCallers ? busyKeys : healthyKeys;
            for (var i = 0; until.Elapsed < TimeSpan.FromSeconds(3); i++)
            {
                var started = until.Elapsed;
                try
                {
                    await coordinator.SetAsync(mine[i % mine.Length], i, cancellationToken: Token);
                    outcomes.Enqueue(new(caller >= BusyCallers, true, null, started));
                }
                catch (CoordinationUnavailableException ex)
                {
                    outcomes.Enqueue(new(caller >= BusyCallers, false, ex.Reason.ToString(), started));
                }
            }
        }, Token)));

        await ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", busyPort, "script", "kill"], TimeSpan.FromSeconds(5), Token);
        var scriptEnd = await Record.ExceptionAsync(() => script);
        Assert.Contains("killed", scriptEnd?.Message ?? await script, StringComparison.OrdinalIgnoreCase);
        var healthyCalls = outcomes.Where(o => o.Healthy).ToArray();
        var busyCalls = outcomes.Where(o => !o.Healthy).ToArray();
        Output.WriteLine($"[measure] one node busy: the other nodes' keys {healthyCalls.Count(o => o.Succeeded)} of {healthyCalls.Length} served ({Reasons(healthyCalls)}); the busy node's {busyCalls.Count(o => o.Succeeded)} of {busyCalls.Length} ({Reasons(busyCalls)})");
        Assert.DoesNotContain(busyCalls, o => o.Succeeded);
        Assert.Contains(busyCalls, o => o.Error == nameof(UnavailableReason.CircuitOpen));
        Assert.All(healthyCalls, o => Assert.True(o.Succeeded, $"a healthy node's call failed: {o.Error}"));

        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await coordinator.SetAsync(busyKeys[0], -1, cancellationToken: Token);
                    return true;
                }
                catch (CoordinationUnavailableException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(10),
            "the busy node's keys to be served once its script is killed",
            Token);
    }

    /// <summary>
    /// A cluster of three primaries, no replicas, that takes no node for failed within a test (node timeout 15 s), a
    /// coordinator on it, 96 keys written, and the primary of the first key's slot: the node a test makes fail.
    /// </summary>
    private sealed class NodeFaultSetup : IAsyncDisposable
    {
        private readonly RedisCluster _cluster;
        private readonly HashSet<string> _onNode;

        private NodeFaultSetup(RedisCluster cluster, CoordinationTestHost host, string[] keys, RedisServer node, HashSet<string> onNode)
        {
            _cluster = cluster;
            Host = host;
            Keys = keys;
            Node = node;
            _onNode = onNode;
        }

        public CoordinationTestHost Host { get; }

        public string[] Keys { get; }

        public RedisServer Node { get; }

        public bool IsOnNode(string key) => _onNode.Contains(key);

        public static async Task<NodeFaultSetup> StartAsync()
        {
            var cluster = await RedisCluster.StartAsync(Token);
            foreach (var member in cluster.Nodes)
            {
                await ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", member.Port.ToString(CultureInfo.InvariantCulture), "config", "set", "cluster-node-timeout", "15000"], TimeSpan.FromSeconds(5), Token);
            }

            var host = await CoordinationTestHost.StartAsync(cluster.ConnectionString);
            var keys = Enumerable.Range(0, 96).Select(i => $"k{i}").ToArray();
            var node = await cluster.PrimaryServingAsync(host.RedisKey(keys[0]));
            var onNode = new HashSet<string>(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                await host.Coordinator.SetAsync(key, 0, cancellationToken: Token);
                if (await cluster.PrimaryServingAsync(host.RedisKey(key)) == node)
                {
                    onNode.Add(key);
                }
            }

            Assert.NotEmpty(onNode);
            Assert.NotEqual(keys.Length, onNode.Count);
            return new(cluster, host, keys, node, onNode);
        }

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await _cluster.DisposeAsync();
        }
    }

    /// <summary>A call of the node fault tests: to a healthy node's key or not, its outcome, and when it started.</summary>
    private readonly record struct NodeCall(bool Healthy, bool Succeeded, string? Error, TimeSpan Started);

    private static string Reasons(IEnumerable<NodeCall> calls) =>
        string.Join(", ", calls.Where(o => !o.Succeeded).GroupBy(o => o.Error).Select(g => $"{g.Key} {g.Count()}"));

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
