using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>
/// Sessions with the PostgreSQL fallback configured: every change is written through to the durable copy, a session
/// Redis lost is put back on its next read, and reads are served by the copy while Redis is down.
/// </summary>
public sealed class SessionDurabilityTests(PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task RedisKilledAndRestartedEmpty_SessionsReadableAgainAndBackInRedis_EndedOnesStayEnded()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        var sessions = host.Coordinator.Sessions;
        var kept = new List<Session>();
        for (var i = 0; i < 50; i++)
        {
            kept.Add(await sessions.CreateAsync($"user-{i % 5}", new Dictionary<string, JsonElement> { ["n"] = JsonSerializer.SerializeToElement(i) }, null, Token));
        }

        var updated = await sessions.UpdateAsync(kept[0].Id, new Dictionary<string, JsonElement?> { ["n"] = JsonSerializer.SerializeToElement(1000) }, null, Token);
        var deleted = await sessions.CreateAsync("user-0", null, null, Token);
        Assert.True(await sessions.DeleteAsync(deleted.Id, Token));
        var rotatedFrom = await sessions.CreateAsync("user-1", null, null, Token);
        var rotated = await sessions.RotateAsync(rotatedFrom.Id, Token);
        var revoked = await sessions.CreateAsync("revoked-user", null, null, Token);
        Assert.Equal(1, await sessions.RevokeAllForUserAsync("revoked-user", Token));
        Assert.Equal(51, await SessionHost.CountCopyRowsAsync(pg, schema, "expires_at > now()")); // 50, and the rotated one under its new key

        await redis.KillAsync();
        // While Redis is down, reads are served by the copy.
        var duringOutage = await sessions.GetAsync(kept[3].Id, Token);
        Assert.Equal(3, duringOutage!.Data["n"].GetInt32());
        await redis.RestartAsync(Token);

        await SessionHost.WaitUntilRedisServesAsync(host, Token);
        var lost = new List<string>();
        foreach (var session in kept)
        {
            var read = await sessions.GetAsync(session.Id, Token);
            if (read is null || read.UserId != session.UserId)
            {
                lost.Add(session.Id);
            }
        }

        Assert.Empty(lost);
        Assert.Equal(1000, (await sessions.GetAsync(updated!.Id, Token))!.Data["n"].GetInt32());
        Assert.Equal(2, (await sessions.GetAsync(updated.Id, Token))!.Version);
        Assert.Null(await sessions.GetAsync(deleted.Id, Token));
        Assert.Null(await sessions.GetAsync(rotatedFrom.Id, Token));
        Assert.NotNull(await sessions.GetAsync(rotated!.Id, Token));
        Assert.Null(await sessions.GetAsync(revoked.Id, Token));

        // Back in Redis itself: the restored sessions are listed from the user's index again.
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        Assert.Equal(10, (await sessions.ListForUserAsync("user-3", Token)).Count);
        Assert.True(await admin.KeyExistsAsync($"{host.KeyPrefix}:default:session:{{{kept[0].Id[(kept[0].Id.IndexOf('.') + 1)..]}}}:{kept[0].Id[..22]}"));
    }

    [Fact]
    public async Task WithoutTheCopy_AnUnknownIdStillReadsAsAbsent_AndAnEndedSessionIsNotRestored()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        var sessions = host.Coordinator.Sessions;
        var brief = await sessions.CreateAsync("u", null, new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(200), AbsoluteTimeout = TimeSpan.FromMinutes(1) }, Token);

        await Task.Delay(TimeSpan.FromMilliseconds(500), Token);

        Assert.Null(await sessions.GetAsync(brief.Id, Token));
        Assert.Null(await sessions.GetAsync("AAAAAAAAAAAAAAAAAAAAAA." + brief.Id[(brief.Id.IndexOf('.') + 1)..], Token));
    }

    [Fact]
    public async Task ASessionKeptAliveByReadsAlone_IsRestoredAfterRedisLosesIt()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        var sessions = host.Coordinator.Sessions;
        // The copy's expiry may trail Redis's by half an idle timeout: 4 s left for Redis to come back before the session
        // would have ended idle anyway (nobody reads it during the outage).
        var session = await sessions.CreateAsync("reader", null, new SessionOptions { IdleTimeout = TimeSpan.FromSeconds(8), AbsoluteTimeout = TimeSpan.FromMinutes(1) }, Token);

        // Read past one idle timeout: alive in Redis throughout, with no write since its creation, so without the copy
        // following the reads its expiry there would have passed.
        for (var i = 0; i < 18; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(500), Token);
            Assert.NotNull(await sessions.GetAsync(session.Id, Token));
        }

        await redis.KillAsync();
        await redis.RestartAsync(Token);

        await SessionHost.WaitUntilRedisServesAsync(host, Token);
        Assert.NotNull(await sessions.GetAsync(session.Id, Token));
        Assert.Single(await sessions.ListForUserAsync("reader", Token));
    }

    [Fact]
    public async Task Cleanup_PurgesTheCopysEndedRowsAndKeepsLiveOnes()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);
        var sessions = host.Coordinator.Sessions;
        await sessions.CreateAsync("u", null, new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(100), AbsoluteTimeout = TimeSpan.FromMinutes(1) }, Token);
        await sessions.CreateAsync("u", null, new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(100), AbsoluteTimeout = TimeSpan.FromMinutes(1) }, Token);
        var live = await sessions.CreateAsync("u", null, null, Token);
        await Task.Delay(TimeSpan.FromMilliseconds(400), Token);

        var result = await host.Services.GetRequiredService<ISessionMaintenance>().TryCleanupAsync(Token);

        Assert.Equal(2, result!.CopiesPurged);
        Assert.Equal(1, await SessionHost.CountCopyRowsAsync(pg, schema));
        Assert.NotNull(await sessions.GetAsync(live.Id, Token));
    }
}
