using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Internal;

/// <summary>Orderly shutdown: held locks released, queued mirror writes flushed.</summary>
public sealed class CoordinationLifetimeTests(SharedRedisFixture redis, PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StopAsync_HostHoldingLocks_ReleasesThemSoAnotherHostTakesThemAtOnce()
    {
        var prefix = TestKeys.NewPrefix();
        await using var holder = await CoordinationTestHost.StartAsync(redis.ConnectionString, prefix, hostName: "holder");
        await using var other = await CoordinationTestHost.StartAsync(redis.ConnectionString, prefix, hostName: "other");
        Assert.True(await holder.Coordinator.LockAsync("job-1", TimeSpan.FromMinutes(5), Token));
        Assert.True(await holder.Coordinator.LockAsync("job-2", TimeSpan.FromMinutes(5), Token));
        Assert.True(await holder.Factory.ForTenant("t2").LockAsync("job-1", TimeSpan.FromMinutes(5), Token));
        Assert.True(await holder.Coordinator.LockAsync("released-before", TimeSpan.FromMinutes(5), Token));
        Assert.True(await holder.Coordinator.UnlockAsync("released-before", Token));
        Assert.True(await other.Coordinator.LockAsync("taken-by-other", TimeSpan.FromMinutes(5), Token));
        Assert.False(await other.Coordinator.LockAsync("job-1", TimeSpan.FromMinutes(5), Token));
        Assert.False(await other.Factory.ForTenant("t2").LockAsync("job-1", TimeSpan.FromMinutes(5), Token));

        await holder.StopAsync();

        var admin = (await redis.GetAdminAsync()).GetDatabase();
        Assert.False(await admin.KeyExistsAsync(holder.RedisKey("job-1", "lock")));
        Assert.False(await admin.KeyExistsAsync(holder.RedisKey("job-2", "lock")));
        Assert.False(await admin.KeyExistsAsync(holder.RedisKey("job-1", "lock", "t2")));
        Assert.True(await other.Coordinator.LockAsync("job-1", TimeSpan.FromMinutes(5), Token));
        Assert.True(await other.Coordinator.LockAsync("job-2", TimeSpan.FromMinutes(5), Token));
        Assert.True(await other.Factory.ForTenant("t2").LockAsync("job-1", TimeSpan.FromMinutes(5), Token));

        // Another holder's lock is untouched by the shutdown.
        Assert.True(await admin.KeyExistsAsync(holder.RedisKey("taken-by-other", "lock")));
    }

    [Fact]
    public async Task StopAsync_RedisDownWhileHoldingLocks_CompletesWithinBound()
    {
        await using var ownRedis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(ownRedis.ConnectionString);
        Assert.True(await host.Coordinator.LockAsync("job-1", TimeSpan.FromSeconds(30), Token));
        Assert.True(await host.Coordinator.LockAsync("job-2", TimeSpan.FromSeconds(30), Token));

        await ownRedis.KillAsync();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await host.StopAsync();
        var elapsed = System.Diagnostics.Stopwatch.GetElapsedTime(started);

        // The locks cannot be released (they expire with their TTL), but shutdown does not hang on them.
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] shutdown with Redis down took {elapsed.TotalMilliseconds:F0} ms");
        Assert.InRange(elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task StopAsync_RightAfterManyWrites_FlushesEveryQueuedMirrorWriteToPostgres()
    {
        const int Writes = 2000;
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithFallbackAsync(redis.ConnectionString, pg, schema);
        await ProcessUtil.WaitUntilAsync(
            async () => (await host.Monitor.GetStatusAsync(Token)).Fallback.Ready, TimeSpan.FromSeconds(20), "the fallback schema", Token);

        await Task.WhenAll(Enumerable.Range(0, Writes).Select(i => host.Coordinator.SetAsync($"k{i}", i, cancellationToken: Token).AsTask()));
        await host.StopAsync();

        var rows = await FallbackTable.ReadAsync(pg, schema, host.KeyPrefix, Token);
        Assert.Equal(Writes, rows.Count);
        Assert.Equal("1999"u8.ToArray(), rows[host.RedisKey("k1999")].Value);
    }
}
