using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using static Coordination.IntegrationTests.Sessions.SessionHost;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>
/// The session scripts on a real Redis Cluster: each touches one user's slot only (its declared keys and the keys it
/// computes from the user's tag), so every call works whichever node owns the user.
/// </summary>
public sealed class SessionClusterTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryCall_OnAClusterOfThreePrimaries_WorksForUsersOnEveryNode()
    {
        await using var cluster = await RedisCluster.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(cluster.ConnectionString, settings: [new("Coordination:Sessions:MaxSessionsPerUser", "3")]);
        var sessions = host.Coordinator.Sessions;
        await using var admin = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var nodesUsed = new HashSet<string>(StringComparer.Ordinal);

        for (var u = 0; u < 24; u++)
        {
            var user = $"user-{u}";
            var ids = new List<string>();
            for (var i = 0; i < 5; i++)
            {
                ids.Add((await sessions.CreateAsync(user, new Dictionary<string, JsonElement> { ["n"] = Json(i) }, cancellationToken: Token)).Id);
            }

            var last = ids[^1];
            var listed = await sessions.ListForUserAsync(user, Token);
            var read = await sessions.GetAsync(last, Token);
            var updated = await sessions.UpdateAsync(last, new Dictionary<string, JsonElement?> { ["n"] = null, ["m"] = Json(u) }, expectedVersion: 1, Token);
            var rotated = await sessions.RotateAsync(last, Token);
            var oldAfterRotation = await sessions.GetAsync(last, Token);
            var deleted = await sessions.DeleteAsync(rotated!.Id, Token);
            var revoked = await sessions.RevokeAllForUserAsync(user, Token);

            // Sessions created in the same millisecond expire together, so which of the first four the cap ended is open.
            Assert.Equal(3, listed.Count);
            Assert.Contains(last, listed.Select(s => s.Id));
            Assert.All(listed, s => Assert.Contains(s.Id, ids));
            Assert.Equal(4, read!.Data["n"].GetInt32());
            Assert.Equal((2L, u), (updated!.Version, updated.Data["m"].GetInt32()));
            Assert.Equal((2L, u), (rotated.Version, rotated.Data["m"].GetInt32()));
            Assert.Null(oldAfterRotation);
            Assert.True(deleted);
            Assert.Equal(2, revoked);
            var sessionKey = $"{host.KeyPrefix}:default:session:{{{last[23..]}}}:{last[..22]}";
            nodesUsed.Add(admin.GetDatabase().IdentifyEndpoint(sessionKey)!.ToString()!);
        }

        Assert.Equal(3, nodesUsed.Count);
    }

    [Fact]
    public async Task Migration_OfAKeyPrefix_OnAClusterOfThreePrimaries_DrainsEveryNode()
    {
        await using var cluster = await RedisCluster.StartAsync(Token);
        var oldPrefix = TestKeys.NewPrefix();
        var ids = new List<string>();
        await using (var old = await CoordinationTestHost.StartAsync(cluster.ConnectionString, oldPrefix))
        {
            for (var n = 0; n < 150; n++)
            {
                ids.Add((await old.Coordinator.Sessions.CreateAsync($"user-{n % 30}", new Dictionary<string, JsonElement> { ["n"] = Json(n) }, cancellationToken: Token)).Id);
            }
        }

        await using var host = await CoordinationTestHost.StartAsync(cluster.ConnectionString, settings: [new("Coordination:Sessions:MigrateFrom:KeyPrefix", oldPrefix)]);
        var read = await host.Coordinator.Sessions.GetAsync(ids[0], Token);
        var result = await host.Services.GetRequiredService<ISessionMigration>().MigrateAsync(Token);

        Assert.Equal(0, read!.Data["n"].GetInt32());
        Assert.Equal(new SessionMigrationResult(30, 149, 0, 0), result);
        await using var admin = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var oldKeys = 0;
        var nodesHoldingNew = 0;
        foreach (var node in admin.GetServers().Where(s => !s.IsReplica))
        {
            oldKeys += await node.KeysAsync(pattern: oldPrefix + ":*").CountAsync(Token);
            nodesHoldingNew += await node.KeysAsync(pattern: host.KeyPrefix + ":default:session:*").AnyAsync(Token) ? 1 : 0;
        }

        Assert.Equal(0, oldKeys);
        Assert.Equal(3, nodesHoldingNew);
        for (var n = 0; n < ids.Count; n++)
        {
            Assert.Equal(n, (await host.Coordinator.Sessions.GetAsync(ids[n], Token))!.Data["n"].GetInt32());
        }

        Assert.Equal(5, (await host.Coordinator.Sessions.ListForUserAsync("user-7", Token)).Count);
    }

    [Fact]
    public async Task Cleanup_OnAClusterOfThreePrimaries_SweepsIndexesAndLedgersOnEveryNode()
    {
        const int Users = 24;
        await using var cluster = await RedisCluster.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(cluster.ConnectionString, settings: [new("Coordination:Quotas:MaxSessionsPerTenant", "1000")]);
        var tenants = Enumerable.Range(0, 6).Select(t => host.Factory.ForTenant($"tenant-{t}").Sessions).ToArray();
        var idle = new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(150), AbsoluteTimeout = TimeSpan.FromMinutes(1) };
        for (var u = 0; u < Users; u++)
        {
            await tenants[u % tenants.Length].CreateAsync($"user-{u}", null, idle, Token);
            await tenants[u % tenants.Length].CreateAsync($"user-{u}", null, null, Token);
        }

        await using var admin = await ConnectionMultiplexer.ConnectAsync(cluster.ConnectionString);
        var primaries = admin.GetServers().Where(s => !s.IsReplica).ToArray();
        async Task<int[]> IndexesPerNodeAsync()
        {
            var counts = new int[primaries.Length];
            for (var n = 0; n < primaries.Length; n++)
            {
                counts[n] = await primaries[n].KeysAsync(pattern: host.KeyPrefix + ":*:session-user:*").CountAsync(Token);
            }

            return counts;
        }

        // The users' indexes (and the tenants' ledgers) live on every node: a SCAN of one node would miss most of them.
        Assert.All(await IndexesPerNodeAsync(), count => Assert.True(count > 0, "a node without indexes"));
        var maintenance = host.Services.GetRequiredService<ISessionMaintenance>();
        await Task.Delay(TimeSpan.FromMilliseconds(400), Token);

        var first = await maintenance.TryCleanupAsync(Token);

        Assert.Equal((Users, (long)Users, (long)Users), (first!.IndexesScanned, first.EntriesRemoved, first.LiveSessions));
        // The ended sessions are gone from every tenant's ledger at the second round that finds them gone.
        await maintenance.TryCleanupAsync(Token);
        for (var t = 0; t < tenants.Length; t++)
        {
            var ledger = $"{host.KeyPrefix}:tenant-{t}:session-ledger:{{{host.KeyPrefix}:tenant-{t}}}";
            Assert.Equal(Users / tenants.Length, await admin.GetDatabase().SortedSetLengthAsync(ledger));
        }
    }
}
