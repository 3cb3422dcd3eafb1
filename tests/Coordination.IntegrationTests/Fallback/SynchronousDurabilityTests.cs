using System.Diagnostics;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Fallback;

/// <summary>
/// <see cref="KeyValueDurability.Synchronous"/> writes against real Redis and PostgreSQL: acknowledged only once
/// PostgreSQL committed their copy, refused in time when it cannot; and the copy's TTL runs from the Redis write.
/// </summary>
public sealed class SynchronousDurabilityTests(PostgresFixture postgres)
{
    private static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SetAndDelete_Synchronous_ReturnOnlyAfterPostgresCommittedTheirCopy()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        await host.Coordinator.SetAsync("doomed", "old", cancellationToken: Token);

        await using (var stall = await FallbackTableStall.StartAsync(pg, schema, Token))
        {
            // While PostgreSQL cannot commit, an asynchronous write is acknowledged at once; synchronous ones wait.
            var asynchronous = host.Coordinator.SetAsync("async", "a", null, KeyValueDurability.Asynchronous, Token).AsTask();
            await asynchronous.WaitAsync(TimeSpan.FromSeconds(2), Token);
            var set = host.Coordinator.SetAsync("durable", new Item("durable", 1), TimeSpan.FromMinutes(10), KeyValueDurability.Synchronous, Token).AsTask();
            var delete = host.Coordinator.DeleteAsync("doomed", KeyValueDurability.Synchronous, Token).AsTask();
            await Task.Delay(TimeSpan.FromMilliseconds(800), Token);
            Assert.False(set.IsCompleted, "A synchronous write was acknowledged before PostgreSQL committed it.");
            Assert.False(delete.IsCompleted, "A synchronous delete was acknowledged before PostgreSQL committed it.");
        }

        var started = Stopwatch.GetTimestamp();
        var rowsSeen = new List<Dictionary<string, FallbackTable.Row>>();
        var setDone = host.Coordinator.SetAsync("durable-2", "second", null, KeyValueDurability.Synchronous, Token).AsTask();
        await setDone.WaitAsync(TimeSpan.FromSeconds(10), Token);
        // Read the moment it returned: the row must already be there (no waiting for a background copy).
        var rows = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
        Assert.True(rows.ContainsKey(host.RedisKey("durable-2")), "The synchronous write returned before its row existed.");
        Assert.True(rows.ContainsKey(host.RedisKey("durable")));
        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(new Item("durable", 1), Web), rows[host.RedisKey("durable")].Value);
        Assert.NotNull(rows[host.RedisKey("durable")].ExpiresAt);
        Assert.False(rows.ContainsKey(host.RedisKey("doomed")), "The synchronous delete returned before its row was deleted.");
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] synchronous write with PostgreSQL idle: {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");
    }

    [Fact]
    public async Task SetAsync_SynchronousByOptionWhilePostgresStalls_FailsAfterTimeoutWithRedisHoldingTheWrite_ThenTheCopyLands()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(
            redis, pg, schema, [new("Coordination:Fallback:Durability", "Synchronous"), new("Coordination:Fallback:SynchronousTimeout", "00:00:00.400")]);
        using var timeouts = new HostCounter(host, "coordination.fallback.durable.timeouts");

        await using (var stall = await FallbackTableStall.StartAsync(pg, schema, Token))
        {
            var started = Stopwatch.GetTimestamp();
            var failure = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.SetAsync("k", "v", cancellationToken: Token));
            var waited = Stopwatch.GetElapsedTime(started);
            Assert.Equal(UnavailableReason.DurableCopyNotConfirmed, failure.Reason);
            Assert.InRange(waited, TimeSpan.FromMilliseconds(350), TimeSpan.FromSeconds(3));
            Assert.Equal(1, timeouts.Total);

            // Not confirmed, not undone: Redis has it, and its copy stays queued.
            var admin = (await redis.GetAdminAsync()).GetDatabase();
            Assert.Equal("\"v\"", (string?)await admin.StringGetAsync(host.RedisKey("k")));
            Assert.Equal(1, (await host.Monitor.GetStatusAsync(Token)).Fallback.MirrorBacklog);
        }

        await ProcessUtil.WaitUntilAsync(
            async () => (await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token)).ContainsKey(host.RedisKey("k")),
            TimeSpan.FromSeconds(10),
            "the queued copy to land once PostgreSQL answers",
            Token);
    }

    [Fact]
    public async Task Synchronous_WithoutFallbackStore_RefusedBeforeWriting()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);

        var set = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.SetAsync("k", "v", null, KeyValueDurability.Synchronous, Token));
        Assert.Equal(UnavailableReason.DurableCopyNotConfirmed, set.Reason);
        Assert.False((await host.Coordinator.GetAsync<string>("k", Token)).HasValue);

        await host.Coordinator.SetAsync("kept", "v", cancellationToken: Token);
        var delete = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.DeleteAsync("kept", KeyValueDurability.Synchronous, Token));
        Assert.Equal(UnavailableReason.DurableCopyNotConfirmed, delete.Reason);
        Assert.True((await host.Coordinator.GetAsync<string>("kept", Token)).HasValue);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await host.Coordinator.SetAsync("k", "v", null, (KeyValueDurability)7, Token));
    }

    [Fact]
    public async Task Mirror_WriteQueuedWhilePostgresStalls_CopyExpiresWithTheRedisKeyNotLater()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        // One write per batch: the first one waits on the stalled table, the expiring one waits in the queue behind it.
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, [new("Coordination:Fallback:MirrorBatchSize", "1")]);
        var ttl = TimeSpan.FromSeconds(30);
        var stalledFor = TimeSpan.FromSeconds(3);

        DateTimeOffset writtenAt;
        await using (var stall = await FallbackTableStall.StartAsync(pg, schema, Token))
        {
            await host.Coordinator.SetAsync("first", "v", cancellationToken: Token);
            await Task.Delay(TimeSpan.FromMilliseconds(200), Token);
            writtenAt = await stall.ServerNowAsync(Token);
            await host.Coordinator.SetAsync("expiring", "v", ttl, Token);
            await Task.Delay(stalledFor, Token);
        }

        await ProcessUtil.WaitUntilAsync(
            async () => (await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token)).ContainsKey(host.RedisKey("expiring")),
            TimeSpan.FromSeconds(10),
            "the copy",
            Token);
        var expiresAt = (await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token))[host.RedisKey("expiring")].ExpiresAt!.Value;

        // Counted from the write, the copy expires ~30 s after it; counted from when its batch began, ~33 s.
        Assert.InRange(expiresAt - writtenAt, ttl - TimeSpan.FromSeconds(1), ttl + TimeSpan.FromSeconds(1));
    }

    private sealed record Item(string Name, int Number);
}
