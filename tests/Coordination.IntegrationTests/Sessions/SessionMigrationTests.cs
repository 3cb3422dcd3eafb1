using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using static Coordination.IntegrationTests.Sessions.SessionHost;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>
/// Moving sessions (Coordination:Sessions:MigrateFrom) between two real redis-server processes and between key
/// prefixes of one: reads through the migrating host never fail, the bulk migration drains the source, a stale export
/// cannot bring back what ended, and concurrent passes count each session once.
/// </summary>
public sealed class SessionMigrationTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task MigrateAsync_TenThousandSessionsBetweenTwoServers_UnderConcurrentReads_NoReadFails()
    {
        const int Count = 10_000;
        const int Readers = 24;
        await using var source = await RedisServer.StartAsync(Token);
        await using var target = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        string[] ids;
        await using (var old = await CoordinationTestHost.StartAsync(source.ConnectionString, prefix))
        {
            ids = await CreateManyAsync(old.Coordinator.Sessions, Count, users: 1_000);
        }

        var expiriesBefore = await ExpiriesAsync(source, prefix, ids);
        await using var host = await StartMigratingAsync(target, prefix, source.ConnectionString);
        var sessions = host.Coordinator.Sessions;
        var migration = host.Services.GetRequiredService<ISessionMigration>();
        Assert.True(migration.IsConfigured);

        var failures = new ConcurrentQueue<string>();
        long reads = 0, readsDuringMigration = 0;
        var migrating = 1;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, Readers).Select(reader => Task.Run(async () =>
        {
            var random = new Random(reader);
            while (!stop.IsCancellationRequested)
            {
                var n = random.Next(Count);
                try
                {
                    var session = await sessions.GetAsync(ids[n], Token);
                    if (session is null)
                    {
                        failures.Enqueue($"session {n}: not found");
                    }
                    else if (session.Data["n"].GetInt32() != n || session.Data["payload"].GetString() != Payload(n))
                    {
                        failures.Enqueue($"session {n}: wrong data {JsonSerializer.Serialize(session.Data)}");
                    }
                }
                catch (Exception ex) when (ex is CoordinationException or TimeoutException)
                {
                    failures.Enqueue($"session {n}: {ex.GetType().Name} {ex.Message}");
                }

                Interlocked.Increment(ref reads);
                if (Volatile.Read(ref migrating) == 1)
                {
                    Interlocked.Increment(ref readsDuringMigration);
                }
            }
        })).ToArray();

        var clock = Stopwatch.StartNew();
        var passes = new List<SessionMigrationResult>();
        do
        {
            passes.Add(await migration.MigrateAsync(Token));
        }
        while (passes[^1].IndexesFound > 0 && passes.Count < 5);

        var migrationTime = clock.Elapsed;
        Volatile.Write(ref migrating, 0);
        await Task.Delay(200, Token);
        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Output.WriteLine($"migration: {migrationTime.TotalSeconds:F1} s in {passes.Count} passes ({string.Join("; ", passes)}); reads: {reads} ({readsDuringMigration} during the migration); failures: {failures.Count}");

        Assert.Empty(failures.Take(20));
        Assert.True(readsDuringMigration >= 1_000, $"only {readsDuringMigration} reads ran during the migration");
        Assert.Equal(0, passes[^1].IndexesFound);
        Assert.Equal(0, passes.Sum(p => p.Ended));
        Assert.Empty(await KeysAsync(source, prefix + ":*"));

        // The target has all of them, with their data, absolute end and an expiry no earlier than the source gave them
        // (reads moved it on).
        var admin = (await target.GetAdminAsync()).GetDatabase();
        Assert.Equal(Count, (await KeysAsync(target, prefix + ":default:session:*")).Count);
        var expiriesAfter = await ExpiriesAsync(target, prefix, ids);
        var hashes = await Task.WhenAll(ids.Select(id => admin.HashGetAsync(SessionKey(prefix, id), ["d:n", "d:payload", "x"])));
        for (var n = 0; n < Count; n++)
        {
            Assert.Equal(n.ToString(System.Globalization.CultureInfo.InvariantCulture), (string?)hashes[n][0]);
            Assert.Equal(JsonSerializer.Serialize(Payload(n)), (string?)hashes[n][1]);
            Assert.Equal(expiriesBefore[n].Absolute, (long)hashes[n][2]);
            Assert.InRange(expiriesAfter[n].Expires, expiriesBefore[n].Expires, expiriesBefore[n].Absolute);
        }

        var indexed = 0L;
        foreach (var index in await KeysAsync(target, prefix + ":default:session-user:*"))
        {
            indexed += await admin.SortedSetLengthAsync(index);
        }

        Assert.Equal(Count, indexed);
        Assert.True(migrationTime < TimeSpan.FromSeconds(60), $"the migration took {migrationTime}");
    }

    [Fact]
    public async Task PrefixOnly_OnOneServer_ReadsListsRevokesAndDrainsThroughTheNewPrefix()
    {
        var oldPrefix = TestKeys.NewPrefix();
        var newPrefix = TestKeys.NewPrefix();
        Session[] alices;
        Session bob;
        await using (var old = await CoordinationTestHost.StartAsync(redis.ConnectionString, oldPrefix))
        {
            alices = [
                await old.Coordinator.Sessions.CreateAsync("alice", Data(1), cancellationToken: Token),
                await old.Coordinator.Sessions.CreateAsync("alice", Data(2), cancellationToken: Token),
                await old.Coordinator.Sessions.CreateAsync("alice", Data(3), cancellationToken: Token),
            ];
            bob = await old.Coordinator.Sessions.CreateAsync("bob", Data(4), cancellationToken: Token);
        }

        await using var host = await StartMigratingAsync(redis, newPrefix, sourceConnection: null, sourcePrefix: oldPrefix);
        var sessions = host.Coordinator.Sessions;

        // A read moves one; an update of another moves it too; the list moves the rest and shows all three.
        Assert.Equal(1, (await sessions.GetAsync(alices[0].Id, Token))!.Data["n"].GetInt32());
        var updated = await sessions.UpdateAsync(alices[1].Id, new Dictionary<string, JsonElement?> { ["seen"] = Json(true) }, expectedVersion: 1, Token);
        Assert.Equal(2, updated!.Version);
        var created = await sessions.CreateAsync("alice", Data(5), cancellationToken: Token);
        var listed = await sessions.ListForUserAsync("alice", Token);
        Assert.Equal(alices.Select(s => s.Id).Append(created.Id).Order(StringComparer.Ordinal), listed.Select(s => s.Id).Order(StringComparer.Ordinal), StringComparer.Ordinal);
        Assert.Single(await KeysAsync(redis, oldPrefix + ":default:session:*"));

        var result = await host.Services.GetRequiredService<ISessionMigration>().MigrateAsync(Token);
        Assert.Equal(new SessionMigrationResult(1, 1, 0, 0), result);
        Assert.Empty(await KeysAsync(redis, oldPrefix + ":*"));
        Assert.Equal(4, (await sessions.GetAsync(bob.Id, Token))!.Data["n"].GetInt32());
        Assert.Equal(0, (await host.Services.GetRequiredService<ISessionMigration>().MigrateAsync(Token)).IndexesFound);

        // The moved sessions keep their ids (the old prefix's tag): the user's revocation still reaches them.
        Assert.Equal(4, await sessions.RevokeAllForUserAsync("alice", Token));
        Assert.Empty(await sessions.ListForUserAsync("alice", Token));
        Assert.Null(await sessions.GetAsync(alices[2].Id, Token));
    }

    [Fact]
    public async Task DeleteAndRotate_OfSessionsStillAtTheSource_EndThemInBothPlaces()
    {
        await using var source = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        Session deleted, rotated;
        await using (var old = await CoordinationTestHost.StartAsync(source.ConnectionString, prefix))
        {
            deleted = await old.Coordinator.Sessions.CreateAsync("carol", Data(1), cancellationToken: Token);
            rotated = await old.Coordinator.Sessions.CreateAsync("carol", Data(2), cancellationToken: Token);
        }

        await using var host = await StartMigratingAsync(redis, prefix, source.ConnectionString);
        var sessions = host.Coordinator.Sessions;

        Assert.True(await sessions.DeleteAsync(deleted.Id, Token));
        Assert.False(await sessions.DeleteAsync(deleted.Id, Token));
        var renewed = await sessions.RotateAsync(rotated.Id, Token);
        Assert.Equal(2, renewed!.Data["n"].GetInt32());
        Assert.Null(await sessions.GetAsync(deleted.Id, Token));
        Assert.Null(await sessions.GetAsync(rotated.Id, Token));
        Assert.Equal([renewed.Id], (await sessions.ListForUserAsync("carol", Token)).Select(s => s.Id));
        Assert.Empty(await KeysAsync(source, prefix + ":*"));
    }

    [Theory]
    [InlineData("delete")]
    [InlineData("rotate")]
    [InlineData("revoke")]
    public async Task StaleExport_OfASessionEndedMeanwhile_IsNotBroughtBack(string ending)
    {
        await using var source = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();

        // A slow mover exported the session; meanwhile a read moved it here and the session ended here.
        var (host, manager, session, stale) = await ExportFromSourceAsync(source, prefix, "dave", 7);
        await using var _ = host;
        Assert.NotNull(await host.Coordinator.Sessions.GetAsync(session.Id, Token));
        switch (ending)
        {
            case "delete":
                Assert.True(await host.Coordinator.Sessions.DeleteAsync(session.Id, Token));
                break;
            case "rotate":
                Assert.NotNull(await host.Coordinator.Sessions.RotateAsync(session.Id, Token));
                break;
            default:
                Assert.Equal(1, await host.Coordinator.Sessions.RevokeAllForUserAsync("dave", Token));
                break;
        }

        var (outcome, removed) = (await manager.ImportAsync(stale, bulk: false, Token))!.Value;

        Assert.Equal(SessionMoveOutcome.Ended, outcome);
        Assert.False(removed);
        Assert.Null(await host.Coordinator.Sessions.GetAsync(session.Id, Token));
        Assert.False(await (await redis.GetAdminAsync()).GetDatabase().KeyExistsAsync(SessionKey(prefix, session.Id)));
    }

    [Fact]
    public async Task StaleExport_OfASessionChangedHere_LeavesTheNewerVersion()
    {
        await using var source = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        var (host, manager, session, stale) = await ExportFromSourceAsync(source, prefix, "erin", 1);
        await using var _ = host;
        var changed = await host.Coordinator.Sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["n"] = Json(2) }, cancellationToken: Token);

        var (outcome, removed) = (await manager.ImportAsync(stale, bulk: false, Token))!.Value;

        Assert.Equal((SessionMoveOutcome.Present, false), (outcome, removed));
        var read = await host.Coordinator.Sessions.GetAsync(session.Id, Token);
        Assert.Equal((2, changed!.Version), (read!.Data["n"].GetInt32(), read.Version));
    }

    [Fact]
    public async Task ImportAsync_SourceChangedSinceTheExport_KeepsTheSourceCopyForTheNextPass()
    {
        await using var source = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();

        var (host, manager, session, export) = await ExportFromSourceAsync(source, prefix, "gina", 1);
        await using var _ = host;

        // A node not configured for the migration yet still writes at the source.
        await using var old = await CoordinationTestHost.StartAsync(source.ConnectionString, prefix);
        await old.Coordinator.Sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["n"] = Json(2) }, cancellationToken: Token);

        var (outcome, removed) = (await manager.ImportAsync(export, bulk: false, Token))!.Value;

        Assert.Equal((SessionMoveOutcome.Moved, false), (outcome, removed));
        Assert.Equal(2, (await old.Coordinator.Sessions.GetAsync(session.Id, Token))!.Version);
        Assert.Equal(new SessionMigrationResult(1, 0, 1, 0), await host.Services.GetRequiredService<ISessionMigration>().MigrateAsync(Token));
        Assert.Empty(await KeysAsync(source, prefix + ":*"));
    }

    [Fact]
    public async Task ImportAsync_ExportOlderThanItsBound_IsNotImported_AndAMoveReadsItAgain()
    {
        await using var source = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        var (host, manager, session, export) = await ExportFromSourceAsync(source, prefix, "hank", 3);
        await using var _ = host;

        // An export held past the bound may have missed a tombstone that has expired meanwhile: it is not imported.
        var aged = export with { StartedTimestamp = Stopwatch.GetTimestamp() - (long)((RedisSessionManager.MaxExportAge.TotalSeconds + 1) * Stopwatch.Frequency) };
        Assert.Null(await manager.ImportAsync(aged, bulk: false, Token));
        Assert.False(await (await redis.GetAdminAsync()).GetDatabase().KeyExistsAsync(SessionKey(prefix, session.Id)));
        Assert.True(await (await source.GetAdminAsync()).GetDatabase().KeyExistsAsync(SessionKey(prefix, session.Id)));

        Assert.True(SessionId.TryParse(session.Id, out var random, out var tag));
        Assert.Equal((SessionMoveOutcome.Moved, true), await manager.MoveAsync(session.Id, random, tag, sourceIndex: null, bulk: false, Token));
    }

    [Fact]
    public async Task MigrateAsync_TwoPassesAtOnce_CountEachSessionOnce()
    {
        const int Count = 2_000;
        await using var source = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        await using (var old = await CoordinationTestHost.StartAsync(source.ConnectionString, prefix))
        {
            await CreateManyAsync(old.Coordinator.Sessions, Count, users: 50);
        }

        await using var first = await StartMigratingAsync(redis, prefix, source.ConnectionString);
        await using var second = await StartMigratingAsync(redis, prefix, source.ConnectionString);

        var results = await Task.WhenAll(
            Task.Run(() => first.Services.GetRequiredService<ISessionMigration>().MigrateAsync(Token), Token),
            Task.Run(() => second.Services.GetRequiredService<ISessionMigration>().MigrateAsync(Token), Token));
        Output.WriteLine(string.Join("; ", results.AsEnumerable()));

        Assert.Equal(Count, results.Sum(r => r.Moved + r.AlreadyPresent + r.Ended));
        Assert.Equal(0, results.Sum(r => r.Ended));
        Assert.Empty(await KeysAsync(source, prefix + ":*"));
        Assert.Equal(Count, (await KeysAsync(redis, prefix + ":default:session:*")).Count);
        Assert.Equal(new SessionMigrationResult(0, 0, 0, 0), await first.Services.GetRequiredService<ISessionMigration>().MigrateAsync(Token));
    }

    [Fact]
    public async Task TryMigrateAsync_WhileAnotherNodeMigrates_IsSkipped()
    {
        var prefix = TestKeys.NewPrefix();
        await using var host = await StartMigratingAsync(redis, prefix, sourceConnection: null, sourcePrefix: TestKeys.NewPrefix());
        var platformLocks = host.Services.GetRequiredService<IPlatformLocks>();
        await using (var held = await platformLocks.For(SessionMigration.LockTenant).TryAcquireAsync(SessionMigration.LockName, cancellationToken: Token))
        {
            Assert.NotNull(held);
            Assert.Null(await host.Services.GetRequiredService<ISessionMigration>().TryMigrateAsync(Token));
        }

        Assert.Equal(new SessionMigrationResult(0, 0, 0, 0), await host.Services.GetRequiredService<ISessionMigration>().TryMigrateAsync(Token));
    }

    [Fact]
    public async Task SourceUnreachable_ReadOfASessionNotHere_ThrowsUnavailable_NeverNull()
    {
        var prefix = TestKeys.NewPrefix();
        await using var source = await RedisServer.StartAsync(Token);
        await using var host = await StartMigratingAsync(redis, prefix, source.ConnectionString + ",connectTimeout=1000");
        var sessions = host.Coordinator.Sessions;
        var here = await sessions.CreateAsync("frank", Data(1), cancellationToken: Token);
        await source.KillAsync();

        var error = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.GetAsync(SessionId.New(SessionId.TagOf(prefix, "default", "frank")), Token));
        Output.WriteLine(error.Message);
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.ListForUserAsync("frank", Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => host.Services.GetRequiredService<ISessionMigration>().MigrateAsync(Token));

        // What the current location has is served without the source.
        Assert.Equal(1, (await sessions.GetAsync(here.Id, Token))!.Data["n"].GetInt32());
    }

    [Fact]
    public async Task WithoutMigrateFrom_NothingIsMigrated()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var migration = host.Services.GetRequiredService<ISessionMigration>();

        Assert.False(migration.IsConfigured);
        await Assert.ThrowsAsync<InvalidOperationException>(() => migration.MigrateAsync(Token));
        await Assert.ThrowsAsync<InvalidOperationException>(() => migration.TryMigrateAsync(Token));
    }

    [Theory]
    [InlineData(null, "same")]
    [InlineData("same", null)]
    [InlineData("same", "same")]
    [InlineData(null, "bad:prefix")]
    [InlineData("127.0.0.1:1,notAnOption=1", null)]
    public async Task StartAsync_MigrateFromTheCurrentLocationOrInvalid_FailsNamingIt(string? connection, string? keyPrefix)
    {
        var prefix = TestKeys.NewPrefix();
        var host = CoordinationTestHost.Build(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis.ConnectionString,
            ["Coordination:KeyPrefix"] = prefix,
            ["Coordination:Sessions:MigrateFrom:ConnectionString"] = connection == "same" ? redis.ConnectionString : connection,
            ["Coordination:Sessions:MigrateFrom:KeyPrefix"] = keyPrefix == "same" ? prefix : keyPrefix,
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(timeout.Token));
            Assert.Contains("Coordination:Sessions:MigrateFrom", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    [Fact]
    public async Task SourceConnection_IsClosedWithTheHost()
    {
        await using var source = await RedisServer.StartAsync(Token);
        var admin = (await source.GetAdminAsync()).GetDatabase();
        var before = await ClientCountAsync(admin);
        var host = await StartMigratingAsync(redis, TestKeys.NewPrefix(), source.ConnectionString);
        await host.Coordinator.Sessions.GetAsync(SessionId.New(SessionId.TagOf("p", "default", "u")), Token);
        Assert.True(await ClientCountAsync(admin) > before);

        await host.DisposeAsync();

        await ProcessUtil.WaitUntilAsync(async () => await ClientCountAsync(admin) == before, TimeSpan.FromSeconds(10), "the source connection to close", Token);
    }

    private static async Task<int> ClientCountAsync(IDatabase admin) =>
        ((string)(await admin.ExecuteAsync("CLIENT", "LIST"))!).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    private static Task<CoordinationTestHost> StartMigratingAsync(IRedisTarget target, string prefix, string? sourceConnection, string? sourcePrefix = null) =>
        CoordinationTestHost.StartAsync(
            target.ConnectionString,
            prefix,
            [
                new("Coordination:Sessions:MigrateFrom:ConnectionString", sourceConnection),
                new("Coordination:Sessions:MigrateFrom:KeyPrefix", sourcePrefix),
            ]);

    /// <summary>
    /// A session of <paramref name="userId"/> created at <paramref name="source"/> (by a host that is gone again), a host
    /// migrating from there to the shared server, its session manager, and an export of the session taken through it.
    /// </summary>
    private async Task<(CoordinationTestHost Host, RedisSessionManager Manager, Session Session, SessionExport Export)> ExportFromSourceAsync(RedisServer source, string prefix, string userId, int n)
    {
        Session session;
        await using (var old = await CoordinationTestHost.StartAsync(source.ConnectionString, prefix))
        {
            session = await old.Coordinator.Sessions.CreateAsync(userId, Data(n), cancellationToken: Token);
        }

        var host = await StartMigratingAsync(redis, prefix, source.ConnectionString);
        var manager = host.Services.GetRequiredService<SessionRuntime>().ForTenant("default");
        Assert.True(SessionId.TryParse(session.Id, out var random, out var tag));
        var export = await manager.ExportAsync(session.Id, random, tag, sourceIndex: null, Token);
        return (host, manager, session, Assert.IsType<SessionExport>(export));
    }

    private static Dictionary<string, JsonElement> Data(int n) => new() { ["n"] = Json(n), ["payload"] = Json(Payload(n)) };

    private static string Payload(int n) => "session-" + n + new string('x', 64);

    /// <summary>Creates <paramref name="count"/> sessions spread over <paramref name="users"/> users; session n holds n.</summary>
    private static async Task<string[]> CreateManyAsync(ISessionManager sessions, int count, int users)
    {
        var ids = new string[count];
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Token }, async (n, token) =>
            ids[n] = (await sessions.CreateAsync("user-" + (n % users), Data(n), cancellationToken: token)).Id);
        return ids;
    }

    private static string SessionKey(string prefix, string id) =>
        SessionId.TryParse(id, out var random, out var tag) ? $"{prefix}:default:session:{{{tag}}}:{random}" : throw new ArgumentException("Not a session id.", nameof(id));

    /// <summary>Each session's key expiry (PEXPIRETIME) and absolute end (field x) on <paramref name="server"/>.</summary>
    private static async Task<(long Expires, long Absolute)[]> ExpiriesAsync(RedisServer server, string prefix, string[] ids)
    {
        var admin = (await server.GetAdminAsync()).GetDatabase();
        return await Task.WhenAll(ids.Select(async id =>
        {
            var key = SessionKey(prefix, id);
            var expires = admin.ExecuteAsync("PEXPIRETIME", key);
            var absolute = admin.HashGetAsync(key, "x");
            return ((long)await expires, (long)await absolute);
        }));
    }

    private static async Task<List<string>> KeysAsync(IRedisTarget server, string pattern)
    {
        var keys = await RedisTargetExtensions.KeysAsync(server, pattern);

        return keys;
    }
}
