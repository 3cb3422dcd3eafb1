using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Fallback;

/// <summary>
/// The repair after Redis loses its data (issue 13, key/value): values the PostgreSQL mirror holds are served again
/// (read-through on a miss) and put back into Redis (bulk reload on one node), deletes stay deleted, TTLs are kept,
/// and writes made while the repair runs are never undone. Real redis-server and PostgreSQL; losses made by killing
/// and restarting Redis without persistence and by FLUSHALL.
/// </summary>
public sealed class KeyValueRepairTests(PostgresFixture postgres)
{
    private const int Written = 50;
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetAsync_RedisRestartedWithoutPersistence_MirroredValuesServedAtOnceThroughReadThrough()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();

        // A reload of one row per second: what is read in the first seconds after the loss comes through read-through.
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, [new("Coordination:Fallback:RepairRowsPerSecond", "1"), new("Coordination:Fallback:RepairBatchSize", "1")]);
        var startedRepair = (await WaitForRepairDoneAsync(host, after: null)).LossDetectedAt;
        var coordinator = host.Coordinator;
        var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Events.FallbackRecovered += (_, _) => recovered.TrySetResult();

        await WriteAndMirrorAsync(host, pg, schema);

        await redis.KillAsync();
        for (var i = 0; i < Written; i += 10)
        {
            var duringOutage = await coordinator.GetAsync<Item>(ItemKey(i), Token);
            Assert.True(duringOutage.FromFallback);
            Assert.Equal(new Item(i), duringOutage.Value);
        }

        await redis.RestartAsync(Token);
        await recovered.Task.WaitAsync(TimeSpan.FromSeconds(15), Token);

        // The node learns of the loss at its next check (at once on reconnect, at most a check interval after).
        var firstRead = Stopwatch.StartNew();
        await ProcessUtil.WaitUntilAsync(
            async () => (await coordinator.GetAsync<Item>(ItemKey(Written - 1), Token)).HasValue,
            TimeSpan.FromSeconds(5),
            $"{ItemKey(Written - 1)} (acknowledged and mirrored before Redis lost it) to be readable again",
            Token);
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] first value readable {firstRead.ElapsedMilliseconds} ms after the fallback recovered");

        var repair = (await host.Monitor.GetStatusAsync(Token)).Fallback.Repair;
        Assert.NotEqual(FallbackRepairState.Idle, repair.State);
        Assert.True(repair.LossDetectedAt > startedRepair, "The loss was not reported in the status.");
        Assert.Equal(1, ReadGauge(host, "coordination.fallback.repair.active"));

        var admin = (await redis.GetAdminAsync()).GetDatabase();
        for (var i = 0; i < Written; i++)
        {
            var read = await coordinator.GetAsync<Item>(ItemKey(i), Token);
            Assert.True(read.HasValue, $"{ItemKey(i)} was acknowledged before the loss and is in the mirror, but reads as absent.");
            Assert.False(read.FromFallback);
            Assert.Equal(new Item(i), read.Value);
            Assert.Equal(JsonSerializer.Serialize(new Item(i), Web), (string?)await admin.StringGetAsync(host.RedisKey(ItemKey(i))));
        }

        await AssertTimeToLiveKeptAsync(host, admin);
        await AssertDeletedAndExpiredStayAbsentAsync(host, admin);
        Assert.True((await host.Monitor.GetStatusAsync(Token)).Fallback.Repair.RowsRestored >= Written - 5, "The read-through restores were not counted.");
    }

    [Fact]
    public async Task BulkReload_RedisRestartedWithoutPersistence_EveryMirroredValueBackInRedisAndCounted()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        using var losses = new HostCounter(host, "coordination.fallback.repair.losses");
        using var restored = new HostCounter(host, "coordination.fallback.repair.restored");
        using var durations = new HostHistogramCount(host, "coordination.fallback.repair.duration");
        var startedRepair = (await WaitForRepairDoneAsync(host, after: null)).LossDetectedAt;
        var lossesAtStart = losses.Total;
        var reloadsAtStart = durations.Count;
        await WriteAndMirrorAsync(host, pg, schema);

        await redis.KillAsync();
        await redis.RestartAsync(Token);

        // Nothing reads: only the bulk reload can put the values back.
        var repair = await WaitForRepairDoneAsync(host, after: startedRepair);
        Assert.Equal(0, ReadGauge(host, "coordination.fallback.repair.active"));
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        for (var i = 0; i < Written; i++)
        {
            Assert.Equal(JsonSerializer.Serialize(new Item(i), Web), (string?)await admin.StringGetAsync(host.RedisKey(ItemKey(i))));
        }

        await AssertTimeToLiveKeptAsync(host, admin);
        await AssertDeletedAndExpiredStayAbsentAsync(host, admin);
        Assert.Equal(1, losses.Total - lossesAtStart);
        Assert.Equal(Written, restored.Total);
        Assert.Equal(Written, repair.RowsRestored);
        Assert.Equal(1, durations.Count - reloadsAtStart);
    }

    [Fact]
    public async Task Repair_OneClusterShardRestartedEmpty_DetectedAndItsValuesRestored()
    {
        // A cluster of three primaries; the shard restarted without its data is not the one holding
        // {prefix}:#kv-durability (a single server's marker), so only a marker on each primary tells the nodes that
        // its keys were lost.
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var cluster = await RedisCluster.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(cluster, pg, schema);
        var firstRepair = (await WaitForRepairDoneAsync(host, after: null)).LossDetectedAt;
        await WriteAndMirrorAsync(host, pg, schema);

        var markerServer = await cluster.PrimaryServingAsync(host.KeyPrefix + ":#kv-durability");
        var restarted = cluster.Nodes.First(n => n != markerServer);
        var lostItems = new List<int>();
        for (var i = 0; i < Written; i++)
        {
            if (await cluster.PrimaryServingAsync(host.RedisKey(ItemKey(i))) == restarted)
            {
                lostItems.Add(i);
            }
        }

        Assert.NotEmpty(lostItems);
        await restarted.RestartAsync(Token);

        // Detected: a loss later than the one of the first start (an empty Redis), and its repair done.
        await WaitForRepairDoneAsync(host, after: firstRepair, TimeSpan.FromSeconds(30));
        foreach (var i in lostItems)
        {
            var read = await host.Coordinator.GetAsync<Item>(ItemKey(i), Token);
            Assert.True(read.HasValue, $"{ItemKey(i)} was acknowledged and mirrored before its shard lost it, but reads as absent.");
            Assert.Equal(new Item(i), read.Value);
        }

        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] {lostItems.Count} of {Written} items were on the restarted shard; all read back");
        await AssertDeletedAndExpiredStayAbsentAsync(host, (await cluster.GetAdminAsync()).GetDatabase());
    }

    [Fact]
    public async Task Repair_FlushAllByOperator_DetectedAndRestored()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        var startedRepair = (await WaitForRepairDoneAsync(host, after: null)).LossDetectedAt;
        await WriteAndMirrorAsync(host, pg, schema);

        // No restart, no reconnect: only the periodic check can notice.
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        await admin.ExecuteAsync("FLUSHALL");
        Assert.False(await admin.KeyExistsAsync(host.RedisKey(ItemKey(0))));

        var repair = await WaitForRepairDoneAsync(host, after: startedRepair);
        Assert.Equal(Written, repair.RowsRestored);
        for (var i = 0; i < Written; i++)
        {
            Assert.Equal(new Item(i), (await host.Coordinator.GetAsync<Item>(ItemKey(i), Token)).Value);
        }

        await AssertDeletedAndExpiredStayAbsentAsync(host, admin);
    }

    [Fact]
    public async Task BulkReload_RedisLosesItsDataAgainDuringTheReload_StartsOverAndRestoresEverything()
    {
        const int Keys = 200;
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();

        // 200 rows at 100 per second: about 2 s of reload, so the second loss lands in the middle of it.
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, [new("Coordination:Fallback:RepairRowsPerSecond", "100"), new("Coordination:Fallback:RepairBatchSize", "10")]);
        var startedRepair = (await WaitForRepairDoneAsync(host, after: null)).LossDetectedAt;
        await Task.WhenAll(Enumerable.Range(0, Keys).Select(i => host.Coordinator.SetAsync(Key(i), i, cancellationToken: Token).AsTask()));
        await WaitForRowsAsync(host, pg, schema, Keys);

        var admin = (await redis.GetAdminAsync()).GetDatabase();
        await admin.ExecuteAsync("FLUSHALL");
        await ProcessUtil.WaitUntilAsync(
            async () => (await host.Monitor.GetStatusAsync(Token)).Fallback.Repair is { State: FallbackRepairState.Running, RowsRestored: >= 50 },
            TimeSpan.FromSeconds(10),
            "the reload to be under way",
            Token);
        var firstLoss = (await host.Monitor.GetStatusAsync(Token)).Fallback.Repair.LossDetectedAt;
        await admin.ExecuteAsync("FLUSHALL");

        // The first life must not be marked repaired: the keys it restored before the second loss are gone again.
        var repair = await WaitForRepairDoneAsync(host, after: firstLoss, TimeSpan.FromSeconds(30));
        Assert.True(firstLoss > startedRepair);
        Assert.True(repair.RowsRestored >= Keys + 50, $"Only {repair.RowsRestored} rows restored: the reload did not start over.");
        for (var i = 0; i < Keys; i++)
        {
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), (string?)await admin.StringGetAsync(host.RedisKey(Key(i))));
        }

        static string Key(int i) => string.Create(CultureInfo.InvariantCulture, $"again-{i:D3}");
    }

    [Fact]
    public async Task Repair_SetsAndDeletesFromTwoNodesRacingASlowReload_KeepLastWriterOrder()
    {
        const int Keys = 300;
        const int WrittenKeys = 120;
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        var prefix = TestKeys.NewPrefix();

        // 300 rows at 100 per second: the reload runs for about 3 s, while the writers and readers below run.
        KeyValuePair<string, string?>[] slow = [new("Coordination:Fallback:RepairRowsPerSecond", "100"), new("Coordination:Fallback:RepairBatchSize", "10")];
        await using var first = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, slow, prefix, "node-a");
        await using var second = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, slow, prefix, "node-b");
        var startedRepair = (await WaitForRepairDoneAsync(first, after: null)).LossDetectedAt;
        await WaitForRepairDoneAsync(second, after: null);
        for (var i = 0; i < Keys; i++)
        {
            await first.Coordinator.SetAsync(Key(i), $"initial-{i}", cancellationToken: Token);
        }

        await WaitForRowsAsync(first, pg, schema, Keys);

        var admin = (await redis.GetAdminAsync()).GetDatabase();
        await admin.ExecuteAsync("FLUSHALL");
        await ProcessUtil.WaitUntilAsync(
            async () => await IsRepairingAsync(first, startedRepair) && await IsRepairingAsync(second, startedRepair),
            TimeSpan.FromSeconds(5),
            "both nodes to see the loss",
            Token);

        // One writer per key (so each key's last acknowledged write is known), alternating nodes and sets and deletes;
        // readers on every key through both nodes make read-through restores race the writes and the reload.
        var last = new string?[WrittenKeys];
        var errors = new ConcurrentQueue<Exception>();
        var writes = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        stop.CancelAfter(TimeSpan.FromSeconds(2.5));
        async Task WriteAsync(int key)
        {
            var random = new Random(key);
            for (var sequence = 1; !stop.IsCancellationRequested; sequence++)
            {
                var node = (sequence + key) % 2 == 0 ? first : second;
                try
                {
                    if (random.Next(3) == 0)
                    {
                        await node.Coordinator.DeleteAsync(Key(key), CancellationToken.None);
                        last[key] = null;
                    }
                    else
                    {
                        var value = string.Create(CultureInfo.InvariantCulture, $"written-{key}-{sequence}");
                        await node.Coordinator.SetAsync(Key(key), value, cancellationToken: CancellationToken.None);
                        last[key] = value;
                    }

                    Interlocked.Increment(ref writes);
                }
#pragma warning disable CA1031 // Collected and asserted on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    errors.Enqueue(ex);
                    return;
                }

                await Task.Delay(random.Next(0, 20), CancellationToken.None);
            }
        }

        async Task ReadAsync(CoordinationTestHost node, int seed)
        {
            var random = new Random(seed);
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await node.Coordinator.GetAsync<string>(Key(random.Next(Keys)), CancellationToken.None);
                }
#pragma warning disable CA1031 // Collected and asserted on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    errors.Enqueue(ex);
                    return;
                }
            }
        }

        var tasks = Enumerable.Range(0, WrittenKeys).Select(k => Task.Run(() => WriteAsync(k), CancellationToken.None))
            .Concat(Enumerable.Range(0, 4).Select(r => Task.Run(() => ReadAsync(r % 2 == 0 ? first : second, r), CancellationToken.None)))
            .ToArray();
        await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30), Token);
        Assert.Empty(errors);

        await WaitForRepairDoneAsync(first, after: startedRepair, TimeSpan.FromSeconds(30));
        await WaitForRepairDoneAsync(second, after: startedRepair, TimeSpan.FromSeconds(30));
        var violations = new List<string>();
        for (var i = 0; i < Keys; i++)
        {
            var expected = i < WrittenKeys ? last[i] : $"initial-{i}";
            var stored = (string?)await admin.StringGetAsync(first.RedisKey(Key(i)));
            var actual = stored is null ? null : JsonSerializer.Deserialize<string>(stored, Web);
            if (actual != expected)
            {
                violations.Add($"{Key(i)}: expected {expected ?? "(deleted)"}, Redis has {actual ?? "(nothing)"}");
            }
        }

        var restoredByReads = (await first.Monitor.GetStatusAsync(Token)).Fallback.Repair.RowsRestored + (await second.Monitor.GetStatusAsync(Token)).Fallback.Repair.RowsRestored;
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] {writes} acknowledged writes raced the reload; {restoredByReads} values restored by both nodes; {violations.Count} violations");
        Assert.True(writes > WrittenKeys * 10, $"Only {writes} writes: the race was not exercised.");
        Assert.Empty(violations);
        static string Key(int i) => string.Create(CultureInfo.InvariantCulture, $"race-{i:D3}");
    }

    [Fact]
    public async Task BulkReload_ThreeNodes_OneAtATimeAndTakenOverWhenTheLeaderIsCutOff()
    {
        const int Keys = 400;
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        var prefix = TestKeys.NewPrefix();
        KeyValuePair<string, string?>[] settings =
        [
            new("Coordination:Fallback:RepairRowsPerSecond", "40"),
            new("Coordination:Fallback:RepairBatchSize", "10"),
            new("Coordination:Fallback:RepairLockTimeToLive", "00:00:02"),
            new("Coordination:Fallback:LossCheckInterval", "00:00:00.200"),
        ];
        await using var a = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, settings, prefix, "node-a");
        await using var b = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, settings, prefix, "node-b");
        await using var c = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, settings, prefix, "node-c");
        CoordinationTestHost[] nodes = [a, b, c];
        var startedRepair = (await WaitForRepairDoneAsync(a, after: null)).LossDetectedAt;
        foreach (var node in nodes)
        {
            await WaitForRepairDoneAsync(node, after: null);
        }

        var batch = Enumerable.Range(0, Keys).Select(i => a.Coordinator.SetAsync(string.Create(CultureInfo.InvariantCulture, $"bulk-{i:D3}"), i, cancellationToken: Token).AsTask());
        await Task.WhenAll(batch);
        await WaitForRowsAsync(a, pg, schema, Keys);

        var admin = (await redis.GetAdminAsync()).GetDatabase();
        await admin.ExecuteAsync("FLUSHALL");

        // Sampled all along: never two nodes running the reload (the cut-off one excluded once it is cut off).
        var cutOff = -1;
        var mostRunning = 0;
        var leaders = new HashSet<int>();
        using var stopSampling = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var sampler = Task.Run(
            async () =>
            {
                while (!stopSampling.IsCancellationRequested)
                {
                    var running = 0;
                    for (var n = 0; n < nodes.Length; n++)
                    {
                        if (n != Volatile.Read(ref cutOff) && (await nodes[n].Monitor.GetStatusAsync(CancellationToken.None)).Fallback.Repair.State == FallbackRepairState.Running)
                        {
                            running++;
                            lock (leaders)
                            {
                                leaders.Add(n);
                            }
                        }
                    }

                    mostRunning = Math.Max(mostRunning, running);
                    await Task.Delay(20, CancellationToken.None);
                }
            },
            CancellationToken.None);

        var leader = -1;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                for (var n = 0; n < nodes.Length; n++)
                {
                    var repair = (await nodes[n].Monitor.GetStatusAsync(Token)).Fallback.Repair;
                    if (repair.State == FallbackRepairState.Running && repair.RowsRestored >= 40)
                    {
                        leader = n;
                        return true;
                    }
                }

                return false;
            },
            TimeSpan.FromSeconds(10),
            "one node to run the reload and restore 40 rows",
            Token);

        // Cut the leader off from Redis: its reload fails and its lock can neither be renewed nor released, so the
        // others must wait for it to expire, as after a crash.
        Volatile.Write(ref cutOff, leader);
        await nodes[leader].Executor.CircuitControl.IsolateAsync(Token);
        var takenOverAt = Stopwatch.StartNew();
        await ProcessUtil.WaitUntilAsync(
            () =>
            {
                lock (leaders)
                {
                    return leaders.Any(n => n != leader);
                }
            },
            TimeSpan.FromSeconds(10),
            "another node to take the reload over",
            Token);
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] reload taken over {takenOverAt.ElapsedMilliseconds} ms after the leader was cut off (lock TTL 2 s)");

        foreach (var n in Enumerable.Range(0, nodes.Length).Where(n => n != leader))
        {
            await WaitForRepairDoneAsync(nodes[n], after: startedRepair, TimeSpan.FromSeconds(30));
        }

        await stopSampling.CancelAsync();
        await sampler.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.Equal(1, mostRunning);
        for (var i = 0; i < Keys; i++)
        {
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), (string?)await admin.StringGetAsync(a.RedisKey(string.Create(CultureInfo.InvariantCulture, $"bulk-{i:D3}"))));
        }

        await nodes[leader].Executor.CircuitControl.CloseAsync(Token);
    }

    /// <summary>
    /// Writes the items (ten with a 10-minute TTL), five keys deleted again and three that expire within 1.5 s, and
    /// waits until PostgreSQL holds the 53 rows of the written keys (the expired ones not yet purged) and the expiring
    /// ones are gone from Redis.
    /// </summary>
    private static async Task WriteAndMirrorAsync(CoordinationTestHost host, PostgresServer pg, string schema)
    {
        for (var i = 0; i < Written; i++)
        {
            await host.Coordinator.SetAsync(ItemKey(i), new Item(i), i < 10 ? TimeSpan.FromMinutes(10) : null, Token);
        }

        for (var i = 0; i < 5; i++)
        {
            await host.Coordinator.SetAsync($"deleted-{i}", "deleted before the loss", cancellationToken: Token);
            Assert.True(await host.Coordinator.DeleteAsync($"deleted-{i}", Token));
        }

        for (var i = 0; i < 3; i++)
        {
            await host.Coordinator.SetAsync($"expired-{i}", "expired before the loss", TimeSpan.FromMilliseconds(1500), Token);
        }

        await WaitForRowsAsync(host, pg, schema, Written + 3);
        await ProcessUtil.WaitUntilAsync(
            async () => !(await host.Coordinator.GetAsync<string>("expired-2", Token)).HasValue,
            TimeSpan.FromSeconds(5),
            "the expiring keys to expire",
            Token);
        var rows = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
        Assert.True(rows.ContainsKey(host.RedisKey("expired-0")), "The expired rows must still be in the mirror for the test to mean anything.");
    }

    private static async Task AssertTimeToLiveKeptAsync(CoordinationTestHost host, IDatabase admin)
    {
        for (var i = 0; i < 10; i++)
        {
            var ttl = await admin.KeyTimeToLiveAsync(host.RedisKey(ItemKey(i)));
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
            var read = await host.Coordinator.GetWithTimeToLiveAsync<Item>(ItemKey(i), Token);
            Assert.InRange(read.TimeToLive!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        }

        Assert.Null(await admin.KeyTimeToLiveAsync(host.RedisKey(ItemKey(Written - 1))));
    }

    private static async Task AssertDeletedAndExpiredStayAbsentAsync(CoordinationTestHost host, IDatabase admin)
    {
        foreach (var key in Enumerable.Range(0, 5).Select(i => $"deleted-{i}").Concat(Enumerable.Range(0, 3).Select(i => $"expired-{i}")))
        {
            Assert.False((await host.Coordinator.GetAsync<string>(key, Token)).HasValue, $"{key} came back.");
            Assert.False((await host.Coordinator.GetWithTimeToLiveAsync<string>(key, Token)).HasValue, $"{key} came back.");
            Assert.False(await admin.KeyExistsAsync(host.RedisKey(key)), $"{key} came back into Redis.");
        }
    }

    private static Task WaitForRowsAsync(CoordinationTestHost host, PostgresServer pg, string schema, int count) =>
        ProcessUtil.WaitUntilAsync(
            async () => (await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token)).Count == count,
            TimeSpan.FromSeconds(15),
            $"{count} rows to be mirrored",
            Token);

    private static async Task<bool> IsRepairingAsync(CoordinationTestHost host, DateTimeOffset? after)
    {
        var repair = (await host.Monitor.GetStatusAsync(Token)).Fallback.Repair;
        return repair.State != FallbackRepairState.Idle && repair.LossDetectedAt > after;
    }

    /// <summary>
    /// Waits until <paramref name="host"/> reports a repair of a loss detected after <paramref name="after"/> done
    /// (a first start counts as a loss: its repair over the empty mirror ends at once); answers the repair's status then.
    /// </summary>
    private static async Task<FallbackRepairStatus> WaitForRepairDoneAsync(CoordinationTestHost host, DateTimeOffset? after, TimeSpan? timeout = null)
    {
        FallbackRepairStatus? repair = null;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                repair = (await host.Monitor.GetStatusAsync(Token)).Fallback.Repair;
                return repair is { State: FallbackRepairState.Idle, LossDetectedAt: { } detected } && (after is null || detected > after);
            },
            timeout ?? TimeSpan.FromSeconds(15),
            "the repair after the loss to be done",
            Token);
        return repair!;
    }

    private static long ReadGauge(CoordinationTestHost host, string instrument)
    {
        var factory = host.Services.GetRequiredService<IMeterFactory>();
        long? value = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (i, l) =>
        {
            if (i.Name == instrument && ReferenceEquals(i.Meter.Scope, factory))
            {
                l.EnableMeasurementEvents(i);
            }
        };
        listener.SetMeasurementEventCallback<int>((_, measurement, _, _) => value = measurement);
        listener.Start();
        listener.RecordObservableInstruments();
        return value ?? throw new InvalidOperationException($"The gauge {instrument} was not observed.");
    }

    private static string ItemKey(int i) => string.Create(CultureInfo.InvariantCulture, $"item-{i:D2}");

    private sealed record Item(int Number);

    /// <summary>Counts the measurements of one histogram of one host.</summary>
    private sealed class HostHistogramCount : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _count;

        public HostHistogramCount(CoordinationTestHost host, string instrument)
        {
            var factory = host.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Name == instrument && ReferenceEquals(i.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref _count));
            _listener.Start();
        }

        public long Count => Interlocked.Read(ref _count);

        public void Dispose() => _listener.Dispose();
    }
}
