using System.Collections.Concurrent;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>The sessions' cleanup (<see cref="ISessionMaintenance"/>) against a real redis-server.</summary>
public sealed class SessionCleanupTests(SharedRedisFixture redis)
{
    private static readonly SessionOptions Short = new() { IdleTimeout = TimeSpan.FromMilliseconds(150), AbsoluteTimeout = TimeSpan.FromMinutes(1) };

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cleanup_RemovesOnlyEndedEntriesAndPublishesAnExpiryEventForEach()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var sessions = host.Coordinator.Sessions;
        var maintenance = host.Services.GetRequiredService<ISessionMaintenance>();
        var ended = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ended.Add((await sessions.CreateAsync("alice", null, Short, Token)).Id);
        }

        var live = await sessions.CreateAsync("alice", null, null, Token);
        var otherTenant = await host.Factory.ForTenant("tenant-b").Sessions.CreateAsync("alice", null, Short, Token);
        var otherTenantLive = await host.Factory.ForTenant("tenant-b").Sessions.CreateAsync("alice", null, null, Token);
        // Ended idle, well before its absolute end (the index's score): announced too, and its index, left empty, goes.
        var carol = await sessions.CreateAsync("carol", null, Short, Token);
        await sessions.CreateAsync("bob", null, null, Token);
        var events = await SubscribeAsync(maintenance.SessionExpiredChannel);
        await Task.Delay(TimeSpan.FromMilliseconds(400), Token);

        var result = await maintenance.TryCleanupAsync(Token);

        Assert.NotNull(result);
        Assert.Equal(5, result.EntriesRemoved);
        await ProcessUtil.WaitUntilAsync(() => Task.FromResult(events.Count >= 5), TimeSpan.FromSeconds(5), "the expiry events", Token);
        var published = events.Select(e => JsonDocument.Parse(e).RootElement).ToArray();
        Assert.Equal(
            ended.Select(id => $"default/alice/{id}").Append($"tenant-b/alice/{otherTenant.Id}").Append($"default/carol/{carol.Id}").Order(),
            published.Select(p => $"{p.GetProperty("tenant").GetString()}/{p.GetProperty("userId").GetString()}/{p.GetProperty("sessionId").GetString()}").Order());
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var aliceIndex = IndexKey(host, "default", "alice");
        Assert.Equal([live.Id], (await admin.SortedSetRangeByRankAsync(aliceIndex)).Select(v => (string)v!));
        Assert.Equal([otherTenantLive.Id], (await admin.SortedSetRangeByRankAsync(IndexKey(host, "tenant-b", "alice"))).Select(v => (string)v!));
        Assert.False(await admin.KeyExistsAsync(IndexKey(host, "default", "carol")));
        Assert.NotNull(await sessions.GetAsync(live.Id, Token));
        Assert.Single(await sessions.ListForUserAsync("bob", Token));
        Assert.Equal(0, (await maintenance.TryCleanupAsync(Token))!.EntriesRemoved);
    }

    [Fact]
    public async Task Cleanup_LeavesAnotherCapabilitysSortedSetWhoseNameLooksLikeAnIndex()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        // A sorted set under a caller's lock name that spells an index key (the lock's expiry set has this shape).
        var lookalike = $"{host.KeyPrefix}:default:lock:{{x:session-user:{{y}}:z}}:exp";
        await admin.SortedSetAddAsync(lookalike, "entry", 1);

        var result = await host.Services.GetRequiredService<ISessionMaintenance>().TryCleanupAsync(Token);

        Assert.Equal(0, result!.IndexesScanned);
        Assert.Equal(1, await admin.SortedSetLengthAsync(lookalike));
    }

    [Fact]
    public async Task TwoNodesCleaningAtOnce_EveryEndedEntryRemovedAndAnnouncedOnce()
    {
        const int Users = 300;
        await using var first = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        await using var second = await CoordinationTestHost.StartAsync(redis.ConnectionString, first.KeyPrefix);
        var sessions = first.Coordinator.Sessions;
        await Parallel.ForAsync(0, Users, Token, async (u, ct) =>
        {
            await sessions.CreateAsync($"user-{u}", null, Short, ct);
            await sessions.CreateAsync($"user-{u}", null, null, ct);
        });
        var events = await SubscribeAsync(first.Services.GetRequiredService<ISessionMaintenance>().SessionExpiredChannel);
        await Task.Delay(TimeSpan.FromMilliseconds(400), Token);

        var results = await Task.WhenAll(
            Task.Run(() => first.Services.GetRequiredService<ISessionMaintenance>().TryCleanupAsync(Token), Token),
            Task.Run(() => second.Services.GetRequiredService<ISessionMaintenance>().TryCleanupAsync(Token), Token));

        Assert.Equal(Users, results.Sum(r => r?.EntriesRemoved ?? 0));
        await ProcessUtil.WaitUntilAsync(() => Task.FromResult(events.Count >= Users), TimeSpan.FromSeconds(5), "the expiry events", Token);
        await Task.Delay(TimeSpan.FromMilliseconds(200), Token);
        Assert.Equal(Users, events.Count);
        Assert.Equal(Users, events.Distinct().Count());
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] two cleanups at once: {string.Join(", ", results.Select(r => r is null ? "skipped" : $"{r.EntriesRemoved} removed of {r.IndexesScanned} indexes"))}");
    }

    private async Task<ConcurrentQueue<string>> SubscribeAsync(string channel)
    {
        var events = new ConcurrentQueue<string>();
        var admin = await redis.GetAdminAsync();
        await admin.GetSubscriber().SubscribeAsync(RedisChannel.Literal(channel), (_, message) => events.Enqueue((string)message!));
        return events;
    }

    private static string IndexKey(CoordinationTestHost host, string tenant, string userId) =>
        $"{host.KeyPrefix}:{tenant}:session-user:{{{SessionId.TagOf(host.KeyPrefix, tenant, userId)}}}:{userId}";
}
