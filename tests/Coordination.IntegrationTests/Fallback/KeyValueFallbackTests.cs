using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Fallback;

/// <summary>
/// The PostgreSQL fallback with real servers: writes are mirrored while Redis is up; when Redis crashes, reads and
/// writes are served by PostgreSQL; when it is back, the writes made meanwhile are replayed to it.
/// </summary>
public sealed class KeyValueFallbackTests(PostgresFixture postgres)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task KeyValueCalls_RedisKilled_ServedFromPostgresThenReplayedToRedisAfterRestart()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        var coordinator = host.Coordinator;
        var engaged = new TaskCompletionSource<FallbackEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var recovered = new TaskCompletionSource<FallbackEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Events.FallbackEngaged += (_, e) => engaged.TrySetResult(e);
        host.Events.FallbackRecovered += (_, e) => recovered.TrySetResult(e);

        var status = await host.Monitor.GetStatusAsync(Token);
        Assert.True(status.Fallback.Configured);
        Assert.False(status.Fallback.Active);

        // Redis up: writes go to Redis and are mirrored to PostgreSQL in the background.
        var before = new Item("before", 1);
        await coordinator.SetAsync("mirrored", before, cancellationToken: Token);
        await coordinator.SetAsync("with-ttl", "expiring", TimeSpan.FromMinutes(10), Token);
        await coordinator.SetAsync("to-delete", "doomed", cancellationToken: Token);
        await coordinator.SetAsync("deleted-before", "gone", cancellationToken: Token);
        Assert.True(await coordinator.DeleteAsync("deleted-before", Token));
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                var rows = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
                return rows.Count == 3 && !rows.ContainsKey(host.RedisKey("deleted-before"));
            },
            TimeSpan.FromSeconds(10),
            "the writes to be mirrored to PostgreSQL",
            Token);
        var mirrored = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
        Assert.All(mirrored.Values, r => Assert.False(r.Pending));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(before, Web), mirrored[host.RedisKey("mirrored")].Value);
        Assert.Null(mirrored[host.RedisKey("mirrored")].ExpiresAt);
        Assert.NotNull(mirrored[host.RedisKey("with-ttl")].ExpiresAt);
        Assert.False(engaged.Task.IsCompleted);

        // Redis crashes: reads come from PostgreSQL.
        await redis.KillAsync();
        var read = await coordinator.GetAsync<Item>("mirrored", Token);
        Assert.True(read.HasValue);
        Assert.True(read.FromFallback);
        Assert.Equal(before, read.Value);
        var engagedArgs = await engaged.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.Equal("kv.get", engagedArgs.Operation);
        Assert.IsType<CoordinationUnavailableException>(engagedArgs.Exception);
        Assert.True((await host.Monitor.GetStatusAsync(Token)).Fallback.Active);

        var withTtl = await coordinator.GetWithTimeToLiveAsync<string>("with-ttl", Token);
        Assert.True(withTtl.FromFallback);
        Assert.Equal("expiring", withTtl.Value);
        Assert.InRange(withTtl.TimeToLive!.Value, TimeSpan.FromMinutes(9), TimeSpan.FromMinutes(10));
        Assert.False((await coordinator.GetAsync<string>("deleted-before", Token)).HasValue);

        // Writes during the outage go to PostgreSQL, pending replay, and are readable at once.
        var during = new Item("during", 2);
        await coordinator.SetAsync("written-during-outage", during, TimeSpan.FromMinutes(5), Token);
        var readDuring = await coordinator.GetAsync<Item>("written-during-outage", Token);
        Assert.True(readDuring.FromFallback);
        Assert.Equal(during, readDuring.Value);
        Assert.True(await coordinator.DeleteAsync("to-delete", Token));
        Assert.False((await coordinator.GetAsync<string>("to-delete", Token)).HasValue);
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await coordinator.LockAsync("never-from-fallback", cancellationToken: Token));

        var pending = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
        Assert.True(pending[host.RedisKey("written-during-outage")].Pending);
        Assert.True(pending[host.RedisKey("to-delete")].Pending);
        Assert.Null(pending[host.RedisKey("to-delete")].Value);
        Assert.False(pending[host.RedisKey("mirrored")].Pending);

        // Redis comes back empty. Hold replay (isolated circuit) to put a stale copy of the deleted key in it, so
        // that the replayed delete has something to delete.
        await host.Executor.CircuitControl.IsolateAsync(Token);
        await redis.RestartAsync(Token);
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        await admin.StringSetAsync(host.RedisKey("to-delete"), "\"stale copy\"");
        await Task.Delay(TimeSpan.FromMilliseconds(700), Token); // more than one recovery probe interval
        Assert.False(recovered.Task.IsCompleted);
        Assert.True((await coordinator.GetAsync<Item>("written-during-outage", Token)).FromFallback);
        await host.Executor.CircuitControl.CloseAsync(Token);

        var recoveredArgs = await recovered.Task.WaitAsync(TimeSpan.FromSeconds(15), Token);
        Assert.Equal(2, recoveredArgs.ReplayedWrites);
        Assert.False((await host.Monitor.GetStatusAsync(Token)).Fallback.Active);

        Assert.Equal(JsonSerializer.Serialize(during, Web), (string?)await admin.StringGetAsync(host.RedisKey("written-during-outage")));
        var replayedTtl = await admin.KeyTimeToLiveAsync(host.RedisKey("written-during-outage"));
        Assert.NotNull(replayedTtl);
        Assert.InRange(replayedTtl.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        Assert.False(await admin.KeyExistsAsync(host.RedisKey("to-delete")));

        var settled = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
        Assert.All(settled.Values, r => Assert.False(r.Pending, r.Key));
        Assert.False(settled.ContainsKey(host.RedisKey("to-delete")));

        // Served by Redis again, here and from a fresh process without any fallback.
        var fromRedis = await coordinator.GetAsync<Item>("written-during-outage", Token);
        Assert.False(fromRedis.FromFallback);
        Assert.Equal(during, fromRedis.Value);
        await using var plain = await CoordinationTestHost.StartAsync(redis.ConnectionString, host.KeyPrefix);
        var plainRead = await plain.Coordinator.GetAsync<Item>("written-during-outage", Token);
        Assert.False(plainRead.FromFallback);
        Assert.Equal(during, plainRead.Value);
        Assert.False((await plain.Coordinator.GetAsync<string>("to-delete", Token)).HasValue);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task SetAsync_ContinuousWritesThroughOutageAndRecovery_RecoversAndKeepsLastAcknowledgedValues(int pauseMilliseconds)
    {
        const int Writers = 8;
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        var fallback = host.Services.GetRequiredService<KeyValueFallback>();
        var recovered = new TaskCompletionSource<FallbackEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Events.FallbackRecovered += (_, e) => recovered.TrySetResult(e);

        var acknowledged = new int[Writers];
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var engaged = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        stop.CancelAfter(TimeSpan.FromSeconds(20));

        // Each writer writes its own hot key back to back, and stops right after its first write made once the node
        // switched back to Redis: a replay that lands after that write would leave an older value behind for good.
        async Task WriteAsync(int writer)
        {
            for (var value = 1; !stop.IsCancellationRequested; value++)
            {
                var servedByRedis = Volatile.Read(ref engaged) == 1 && !fallback.IsActive;
                try
                {
                    await host.Coordinator.SetAsync($"hot-{writer}", value, cancellationToken: CancellationToken.None);
                    Volatile.Write(ref acknowledged[writer], value);
                }
#pragma warning disable CA1031 // Collected and asserted on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    errors.Enqueue(ex);
                }

                if (servedByRedis)
                {
                    return;
                }

                if (fallback.IsActive)
                {
                    Volatile.Write(ref engaged, 1);
                }

                await Task.Delay(pauseMilliseconds, CancellationToken.None);
            }
        }

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(w), CancellationToken.None)).ToArray();
        await Task.Delay(TimeSpan.FromMilliseconds(300), Token);
        await redis.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        await redis.RestartAsync(Token);
        var restartedAt = System.Diagnostics.Stopwatch.GetTimestamp();

        // Recovery must complete while the writers keep writing: hot keys must not keep the node on the fallback.
        var recoveredInTime = await Task.WhenAny(recovered.Task, Task.Delay(TimeSpan.FromSeconds(10), Token)) == recovered.Task;
        var recoveryTime = System.Diagnostics.Stopwatch.GetElapsedTime(restartedAt);
        await stop.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(10), Token);
        TestContext.Current.TestOutputHelper!.WriteLine(
            $"[measure] fallback under write load (pause {pauseMilliseconds} ms): recovered={recoveredInTime} after {recoveryTime.TotalMilliseconds:F0} ms; acknowledged writes per writer {string.Join(",", acknowledged)}");

        Assert.Empty(errors);
        Assert.True(recoveredInTime, "The fallback did not recover within 10 s of Redis restarting while writes went on.");
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var inRedis = new string?[Writers];
        for (var writer = 0; writer < Writers; writer++)
        {
            inRedis[writer] = await admin.StringGetAsync(host.RedisKey($"hot-{writer}"));
        }

        Assert.Equal(acknowledged.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)), inRedis);
        await ProcessUtil.WaitUntilAsync(
            async () => (await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token)).Values.All(r => !r.Pending),
            TimeSpan.FromSeconds(5),
            "no pending fallback write left",
            Token);
    }

    [Fact]
    public async Task KeyValueCalls_RedisDownAndNoFallback_ThrowUnavailable()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        await host.Coordinator.SetAsync("k", "v", cancellationToken: Token);

        await redis.KillAsync();

        var get = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.GetAsync<string>("k", Token));
        Assert.Equal(UnavailableReason.ConnectionFailed, get.Reason);
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.SetAsync("k", "w", cancellationToken: Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.DeleteAsync("k", Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.LockAsync("l", cancellationToken: Token));
        var status = await host.Monitor.GetStatusAsync(Token);
        Assert.False(status.Fallback.Configured);
        Assert.False(status.Fallback.Active);
    }

    [Fact]
    public async Task Mirror_ExpiredRowsWithoutOutage_PurgedWithinIntervalAndCounted()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, [new("Coordination:Fallback:PurgeInterval", "00:00:00.500")]);
        using var purged = new HostCounter(host, "coordination.fallback.purged");
        var engaged = false;
        host.Events.FallbackEngaged += (_, _) => engaged = true;

        const int Expiring = 20;
        for (var i = 0; i < Expiring; i++)
        {
            await host.Coordinator.SetAsync($"short-{i}", i, TimeSpan.FromSeconds(2), Token);
        }

        await host.Coordinator.SetAsync("kept", "no ttl", cancellationToken: Token);
        await host.Coordinator.SetAsync("kept-long", "long ttl", TimeSpan.FromMinutes(10), Token);
        await ProcessUtil.WaitUntilAsync(
            async () => (await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token)).Count == Expiring + 2,
            TimeSpan.FromSeconds(5),
            "the writes to be mirrored",
            Token);

        // 2 s of TTL plus one 500 ms purge interval, with room for a loaded machine; no outage, no recovery.
        await ProcessUtil.WaitUntilAsync(
            async () => (await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token)).Count == 2,
            TimeSpan.FromSeconds(6),
            "the expired rows to be purged",
            Token);
        var left = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
        Assert.True(left.ContainsKey(host.RedisKey("kept")));
        Assert.True(left.ContainsKey(host.RedisKey("kept-long")));
        await ProcessUtil.WaitUntilAsync(() => purged.Total == Expiring, TimeSpan.FromSeconds(2), "the purge metric", Token);
        Assert.False(engaged);
    }

    [Theory]
    [InlineData("Coordination:Fallback:MirrorQueueCapacity", "4", false)]
    [InlineData("Coordination:Fallback:MirrorQueueMaxBytes", "2048", false)]
    // On a cluster the 64 keys lie on three nodes: the reconcile's SCAN has to walk every primary.
    [InlineData("Coordination:Fallback:MirrorQueueCapacity", "4", true)]
    public async Task SetAsync_MirrorQueueFullWhilePostgresStalls_WritersNotBlockedThenReconciled(string bound, string limit, bool cluster)
    {
        const int Writers = 64;
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using IAsyncDisposable deployment = cluster ? await RedisCluster.StartAsync(Token) : await RedisServer.StartAsync(Token);
        var redis = (IRedisTarget)deployment;
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, [new(bound, limit), new("Coordination:Fallback:MirrorBatchSize", "4")]);
        using var dropped = new HostCounter(host, "coordination.fallback.mirror.dropped");

        // PostgreSQL stalls for this test's table only (the server is shared): mirror batches wait on the lock.
        var stall = await FallbackTableStall.StartAsync(pg, schema, Token);

        var padding = new string('x', 200);
        var acknowledged = new string?[Writers];
        var slowest = new long[Writers];
        var writersStop = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 2;
        async Task WriteAsync(int writer)
        {
            for (var value = 1; Stopwatch.GetTimestamp() < writersStop; value++)
            {
                var text = string.Create(CultureInfo.InvariantCulture, $"{value}-{padding}");
                var started = Stopwatch.GetTimestamp();
                await host.Coordinator.SetAsync($"w-{writer}", text, cancellationToken: CancellationToken.None);
                slowest[writer] = Math.Max(slowest[writer], Stopwatch.GetTimestamp() - started);
                acknowledged[writer] = text;
            }
        }

        var writers = Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(w), CancellationToken.None)));
        var finished = await Task.WhenAny(writers, Task.Delay(TimeSpan.FromSeconds(10), Token)) == writers;
        var behind = await host.Monitor.GetStatusAsync(Token);

        // PostgreSQL answers again.
        await stall.DisposeAsync();
        await writers.WaitAsync(TimeSpan.FromSeconds(30), Token);

        var slowestWrite = TimeSpan.FromTicks(slowest.Max() * TimeSpan.TicksPerSecond / Stopwatch.Frequency);
        TestContext.Current.TestOutputHelper!.WriteLine(
            $"[measure] mirror full ({bound}={limit}): slowest write {slowestWrite.TotalMilliseconds:F0} ms, dropped {behind.Fallback.MirrorDroppedWrites}, backlog {behind.Fallback.MirrorBacklog}");
        Assert.True(finished, "Writers were blocked by the stalled mirror.");
        Assert.True(slowestWrite < TimeSpan.FromSeconds(1), $"A write took {slowestWrite.TotalMilliseconds:F0} ms.");
        Assert.True(behind.Fallback.MirrorBehind);
        Assert.True(behind.Fallback.MirrorDroppedWrites > 0);
        Assert.False(behind.Fallback.Active);
        Assert.True(dropped.Total > 0);

        // The queue drains, then the dropped writes are reconciled from Redis: PostgreSQL has every key's last value.
        await ProcessUtil.WaitUntilAsync(
            async () => await host.Monitor.GetStatusAsync(Token) is { Fallback: { MirrorBehind: false, MirrorBacklog: 0 } },
            TimeSpan.FromSeconds(30),
            "the mirror to catch up",
            Token);
        var rows = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
        var mismatches = Enumerable.Range(0, Writers).Count(w =>
            !rows.TryGetValue(host.RedisKey($"w-{w}"), out var row)
            || !row.Value.AsSpan().SequenceEqual(JsonSerializer.SerializeToUtf8Bytes(acknowledged[w], Web)));
        Assert.Equal(0, mismatches);
    }

    private sealed record Item(string Name, int Number);
}
