using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>
/// Sessions while Redis is unavailable, with the PostgreSQL copy configured: reads and writes are made in the copy,
/// and the changes are replayed to Redis when it answers again, whether it came back empty or with its old state.
/// </summary>
public sealed class SessionOutageTests(PostgresFixture postgres)
{
    private static readonly KeyValuePair<string, string?>[] FastFailure =
    [
        new("Coordination:Resilience:AttemptTimeout", "00:00:00.200"),
        new("Coordination:Resilience:MinimumThroughput", "5"),
        new("Coordination:Resilience:BreakDuration", "00:00:02"),
        new("Coordination:Health:ProbeTimeout", "00:00:00.250"),
    ];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static Dictionary<string, JsonElement> Data(int n) => new() { ["n"] = JsonSerializer.SerializeToElement(n) };

    [Fact]
    public async Task RedisKilled_WritesMadeInTheCopy_AreInRedisAfterItRestartsEmpty_NothingLost()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, FastFailure);
        var sessions = host.Coordinator.Sessions;
        var before = new List<Session>();
        for (var i = 0; i < 20; i++)
        {
            before.Add(await sessions.CreateAsync($"user-{i % 4}", Data(i), null, Token));
        }

        await redis.KillAsync();

        Assert.Equal(3, (await sessions.GetAsync(before[3].Id, Token))!.Data["n"].GetInt32());
        var created = new List<Session>();
        for (var i = 0; i < 12; i++)
        {
            created.Add(await sessions.CreateAsync($"user-{i % 5}", Data(100 + i), null, Token));
        }

        var updated = await sessions.UpdateAsync(before[1].Id, new Dictionary<string, JsonElement?> { ["added"] = JsonSerializer.SerializeToElement("in the outage") }, 1, Token);
        Assert.Equal(2, updated!.Version);
        await Assert.ThrowsAsync<SessionVersionConflictException>(async () => await sessions.UpdateAsync(before[1].Id, new Dictionary<string, JsonElement?>(), 1, Token));
        Assert.True(await sessions.DeleteAsync(before[2].Id, Token));
        Assert.Null(await sessions.GetAsync(before[2].Id, Token));
        var rotated = await sessions.RotateAsync(before[5].Id, Token);
        Assert.Null(await sessions.GetAsync(before[5].Id, Token));
        Assert.Equal(5, (await sessions.GetAsync(rotated!.Id, Token))!.Data["n"].GetInt32());
        Assert.Equal(2, await sessions.RevokeAllForUserAsync("user-4", Token)); // two created in the outage
        Assert.Equal(5 + 3, (await sessions.ListForUserAsync("user-0", Token)).Count);

        await redis.RestartAsync(Token);
        await SessionHost.WaitUntilRedisServesAsync(host, Token);
        var cleanup = await host.Services.GetRequiredService<ISessionMaintenance>().TryCleanupAsync(Token);
        Assert.NotNull(cleanup);
        Assert.Equal(0, await SessionHost.CountCopyRowsAsync(pg, schema, "pending"));

        // The replay, not a read, put them in Redis.
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var live = created.Where(s => s.UserId != "user-4").ToList();
        foreach (var session in live)
        {
            Assert.True(await admin.KeyExistsAsync(KeyOf(host, session.Id)), $"session {session.Id} created in the outage is not in Redis");
        }

        Assert.True(await admin.KeyExistsAsync(KeyOf(host, rotated.Id)));
        foreach (var session in live)
        {
            Assert.Equal(session.Data["n"].GetInt32(), (await sessions.GetAsync(session.Id, Token))!.Data["n"].GetInt32());
        }

        var lost = new List<string>();
        foreach (var session in before.Where((_, i) => i is not 2 and not 5))
        {
            if (await sessions.GetAsync(session.Id, Token) is null)
            {
                lost.Add(session.Id);
            }
        }

        Assert.Empty(lost);
        var afterUpdate = await sessions.GetAsync(before[1].Id, Token);
        Assert.Equal(2, afterUpdate!.Version);
        Assert.Equal("in the outage", afterUpdate.Data["added"].GetString());
        Assert.Null(await sessions.GetAsync(before[2].Id, Token));
        Assert.Null(await sessions.GetAsync(before[5].Id, Token));
        Assert.All(created.Where(s => s.UserId == "user-4"), s => Assert.False(admin.KeyExists(KeyOf(host, s.Id))));
        Assert.Empty(await sessions.ListForUserAsync("user-4", Token));
        Assert.Equal(5 + 3, (await sessions.ListForUserAsync("user-0", Token)).Count);
    }

    [Fact]
    public async Task RedisUnreachableButKeepingItsData_ChangesMadeInTheCopy_ReplaceItsOlderStateWhenItAnswersAgain()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, FastFailure);
        var sessions = host.Coordinator.Sessions;
        var updated = await sessions.CreateAsync("paula", Data(1), null, Token);
        var deleted = await sessions.CreateAsync("paula", Data(2), null, Token);
        var rotatedFrom = await sessions.CreateAsync("paula", Data(3), null, Token);
        var admin = (await redis.GetAdminAsync()).GetDatabase();

        await redis.PauseAsync();
        try
        {
            // Reads (served by the copy) until the circuit opens: from then on calls do not reach Redis at all, so
            // the changes below exist only in the copy until the replay.
            await ProcessUtil.WaitUntilAsync(
                async () =>
                {
                    await sessions.GetAsync(updated.Id, Token);
                    return (await host.Monitor.GetStatusAsync(Token)).Circuit == CircuitState.Open;
                },
                TimeSpan.FromSeconds(15),
                "the circuit to open",
                Token);
            Assert.Equal(2, (await sessions.UpdateAsync(updated.Id, new Dictionary<string, JsonElement?> { ["n"] = JsonSerializer.SerializeToElement(10) }, null, Token))!.Version);
            Assert.True(await sessions.DeleteAsync(deleted.Id, Token));
            var rotated = await sessions.RotateAsync(rotatedFrom.Id, Token);
            Assert.NotNull(rotated);
            Assert.Equal(CircuitState.Open, (await host.Monitor.GetStatusAsync(Token)).Circuit);

            // Asked while Redis is still paused, on a connection it already has: answered before the node, which must
            // connect again, can replay (a read after the resume raced the replay on a loaded machine).
            var versionBeforeReplay = admin.HashGetAsync(KeyOf(host, updated.Id), "v");
            await redis.ResumeAsync();
            Assert.Equal(1, (long)await versionBeforeReplay);

            // The node replays by itself at its next session call once Redis answers.
            await ProcessUtil.WaitUntilAsync(
                async () =>
                {
                    try
                    {
                        await sessions.GetAsync(rotated!.Id, Token);
                    }
                    catch (CoordinationUnavailableException)
                    {
                        return false;
                    }

                    return (long)await admin.HashGetAsync(KeyOf(host, updated.Id), "v") == 2
                        && !await admin.KeyExistsAsync(KeyOf(host, deleted.Id))
                        && !await admin.KeyExistsAsync(KeyOf(host, rotatedFrom.Id))
                        && await admin.KeyExistsAsync(KeyOf(host, rotated!.Id));
                },
                TimeSpan.FromSeconds(20),
                "the changes to be replayed",
                Token);

            Assert.Equal(10, (await sessions.GetAsync(updated.Id, Token))!.Data["n"].GetInt32());
            Assert.Null(await sessions.GetAsync(deleted.Id, Token));
            Assert.Null(await sessions.GetAsync(rotatedFrom.Id, Token));
            Assert.Equal(3, (await sessions.GetAsync(rotated!.Id, Token))!.Data["n"].GetInt32());
            Assert.Equal(new[] { updated.Id, rotated.Id }.Order(), (await sessions.ListForUserAsync("paula", Token)).Select(s => s.Id).Order());
            Assert.Equal(0, await SessionHost.CountCopyRowsAsync(pg, schema, "pending"));
        }
        finally
        {
            await redis.ResumeAsync();
        }
    }

    [Fact]
    public async Task AfterRedisLostItsData_AListingShowsEverySessionTheCopyHolds_AndPutsThemBack()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, TestKeys.NewSchema());
        var sessions = host.Coordinator.Sessions;
        var created = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            created.Add((await sessions.CreateAsync("lena", Data(i), null, Token)).Id);
        }

        var admin = (await redis.GetAdminAsync()).GetDatabase();
        await admin.ExecuteAsync("FLUSHALL");

        var listed = await sessions.ListForUserAsync("lena", Token);

        Assert.Equal(created.Order(), listed.Select(s => s.Id).Order());
        Assert.All(created, id => Assert.True(admin.KeyExists(KeyOf(host, id))));
        Assert.Equal(5, await admin.SortedSetLengthAsync($"{host.KeyPrefix}:default:session-user:{{{TagOf(created[0])}}}:lena"));
    }

    [Fact]
    public async Task ASessionEndedByTheCap_IsNotPutBackFromTheCopy()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, [new("Coordination:Sessions:MaxSessionsPerUser", "2")]);
        var sessions = host.Coordinator.Sessions;
        var oldest = await sessions.CreateAsync("carl", null, new SessionOptions { AbsoluteTimeout = TimeSpan.FromHours(1) }, Token);
        var second = await sessions.CreateAsync("carl", null, null, Token);
        var third = await sessions.CreateAsync("carl", null, null, Token);
        Assert.Null(await sessions.GetAsync(oldest.Id, Token));

        await (await redis.GetAdminAsync()).GetDatabase().ExecuteAsync("FLUSHALL");

        Assert.Null(await sessions.GetAsync(oldest.Id, Token));
        Assert.NotNull(await sessions.GetAsync(second.Id, Token));
        Assert.NotNull(await sessions.GetAsync(third.Id, Token));
        Assert.Equal(2, (await sessions.ListForUserAsync("carl", Token)).Count);
    }

    [Fact]
    public async Task RedisAndTheCopyBothUnavailable_CallsFailWithCoordinationUnavailable_AndNothingIsMadeUp()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, FastFailure);
        var sessions = host.Coordinator.Sessions;
        var session = await sessions.CreateAsync("bert", Data(1), null, Token);
        await redis.KillAsync();
        await DropTableAsync(pg, schema);

        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.GetAsync(session.Id, Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.CreateAsync("bert", null, null, Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?>(), null, Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.ListForUserAsync("bert", Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.DeleteAsync(session.Id, Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.RotateAsync(session.Id, Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await sessions.RevokeAllForUserAsync("bert", Token));
    }

    [Fact]
    public async Task AnUpdateInTheCopy_IsCheckedAgainstTheSameBoundsAsInRedis()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(
            redis,
            pg,
            TestKeys.NewSchema(),
            [.. FastFailure, new("Coordination:Sessions:MaxFields", "2"), new("Coordination:Sessions:MaxDataBytes", "64")]);
        var sessions = host.Coordinator.Sessions;
        var session = await sessions.CreateAsync("ines", Data(1), null, Token);
        await redis.KillAsync();

        await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.UpdateAsync(
            session.Id,
            new Dictionary<string, JsonElement?> { ["a"] = JsonSerializer.SerializeToElement(1), ["b"] = JsonSerializer.SerializeToElement(2) },
            null,
            Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.UpdateAsync(
            session.Id,
            new Dictionary<string, JsonElement?> { ["n"] = JsonSerializer.SerializeToElement(new string('x', 80)) },
            null,
            Token));
        var removed = await sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["n"] = null, ["m"] = JsonSerializer.SerializeToElement(2) }, null, Token);

        Assert.Equal(["m"], removed!.Data.Keys);
        Assert.Equal(2, (await sessions.GetAsync(session.Id, Token))!.Version);
        Assert.Null(await sessions.UpdateAsync(SessionId.New(TagOf(session.Id)), new Dictionary<string, JsonElement?>(), null, Token));
    }

    [Fact]
    public async Task OneNodeCutOff_AnUpdateThroughTheOther_IsAppliedOnTopOfTheCopysChange_AndSurvivesRedisLosingEverything()
    {
        await using var nodes = await TwoNodes.StartAsync(await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token));
        var (cutOff, other, session) = (nodes.CutOff, nodes.Other, nodes.Session);

        var inCopy = await cutOff.Coordinator.Sessions.UpdateAsync(session.Id, Patch(("n", 1), ("a", 1)), null, Token);
        Assert.Equal(2, inCopy!.Version);

        // Redis still holds version 1, so the update through the other node makes a version 2 without "a".
        var answered = await other.Coordinator.Sessions.UpdateAsync(session.Id, Patch(("n", 2)), null, Token);

        Assert.Equal(3, answered!.Version);
        Assert.Equal(2, answered.Data["n"].GetInt32());
        Assert.Equal(1, answered.Data["a"].GetInt32());
        await WaitUntilReadsAsync(other, session.Id, 3, "the replay to bring the rebased update to Redis");
        Assert.Equal(0, await SessionHost.CountCopyRowsAsync(nodes.Postgres, nodes.Schema, "pending"));

        await FlushAsync(nodes.Redis);
        var restored = await other.Coordinator.Sessions.GetAsync(session.Id, Token);
        Assert.Equal(3, restored!.Version);
        Assert.Equal(2, restored.Data["n"].GetInt32());
        Assert.Equal(1, restored.Data["a"].GetInt32());
    }

    [Fact]
    public async Task OneNodeCutOff_AnUpdateThroughTheOtherExpectingTheOldVersion_IsAConflict_AndTheCopysChangeStays()
    {
        await using var nodes = await TwoNodes.StartAsync(await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token));
        var (cutOff, other, session) = (nodes.CutOff, nodes.Other, nodes.Session);
        await cutOff.Coordinator.Sessions.UpdateAsync(session.Id, Patch(("n", 1)), 1, Token);

        var conflict = await Assert.ThrowsAsync<SessionVersionConflictException>(
            async () => await other.Coordinator.Sessions.UpdateAsync(session.Id, Patch(("n", 2)), 1, Token));

        Assert.Equal(3, conflict.ActualVersion);
        await WaitUntilReadsAsync(other, session.Id, 3, "the replay to replace Redis's refused update with the copy's state");
        Assert.Equal(1, (await other.Coordinator.Sessions.GetAsync(session.Id, Token))!.Data["n"].GetInt32());
        await FlushAsync(nodes.Redis);
        Assert.Equal(1, (await other.Coordinator.Sessions.GetAsync(session.Id, Token))!.Data["n"].GetInt32());
    }

    [Fact]
    public async Task CopyHoldingAnotherStateAtTheVersionAnUpdateMakes_TheUpdateIsAppliedOnTopOfIt()
    {
        // What the replay leaves when Redis kept its own state at the copy's version (a fork it cannot settle alone).
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, FastFailure);
        var sessions = host.Coordinator.Sessions;
        var session = await sessions.CreateAsync("olga", Data(0), null, Token);
        await using (var dataSource = NpgsqlDataSource.Create(pg.ConnectionString))
        {
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
            await using var fork = dataSource.CreateCommand($$"""UPDATE {{schema}}.sessions SET version = 2, data = '{"n": 1, "a": 1}', pending = false""");
#pragma warning restore CA2100
            Assert.Equal(1, await fork.ExecuteNonQueryAsync(Token));
        }

        var answered = await sessions.UpdateAsync(session.Id, Patch(("n", 2)), null, Token);

        Assert.Equal(3, answered!.Version);
        Assert.Equal(1, answered.Data["a"].GetInt32());
        await WaitUntilReadsAsync(host, session.Id, 3, "the replay to bring the rebased update to Redis");
        var unchanged = await sessions.UpdateAsync(session.Id, Patch(("n", 3)), null, Token);
        Assert.Equal(4, unchanged!.Version);
        await FlushAsync(redis);
        var restored = await sessions.GetAsync(session.Id, Token);
        Assert.Equal(4, restored!.Version);
        Assert.Equal(3, restored.Data["n"].GetInt32());
        Assert.Equal(1, restored.Data["a"].GetInt32());
    }

    [Fact]
    public async Task AnotherStateInRedisAtTheVersionOfAChangeMadeInTheCopy_TheReplayPutsTheCopysStateThere()
    {
        // A write that timed out while Redis was paused and that Redis ran once the pause ended: the caller had made
        // the change in the copy instead, and Redis now holds another state at the same version.
        await using var nodes = await TwoNodes.StartAsync(await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token));
        var (cutOff, session) = (nodes.CutOff, nodes.Session);
        var inCopy = await cutOff.Coordinator.Sessions.UpdateAsync(session.Id, Patch(("n", 1)), null, Token);
        Assert.Equal(2, inCopy!.Version);
        var admin = (await nodes.Redis.GetAdminAsync()).GetDatabase();
        var key = KeyOf(cutOff, session.Id);
        await admin.HashSetAsync(key, [new("v", 2), new("d:n", "5")]);

        await cutOff.Executor.CircuitControl.CloseAsync(Token);
        await WaitUntilAsync(
            async () =>
            {
                // The node that made the change replays at its next session call.
                await cutOff.Coordinator.Sessions.GetAsync(session.Id, Token);
                return (string?)await admin.HashGetAsync(key, "d:n") == "1";
            },
            "the replay to put the copy's state into Redis");

        // Redis's own state at version 2 was replaced: the copy's state goes one version above it, so that a reader of
        // the replaced state updating with an expected version 2 gets a conflict.
        var read = await nodes.Other.Coordinator.Sessions.GetAsync(session.Id, Token);
        Assert.Equal(3, read!.Version);
        Assert.Equal(1, read.Data["n"].GetInt32());
    }

    [Fact]
    public async Task AnUpdateInRedisWhoseWriteThroughWaitsForTheReplay_IsAppliedOnTopOfTheCopy_NotTakenForALateArrival()
    {
        // The race a failover under load showed: the copy holds changes made while one node was cut off (version 3);
        // an update through the other node runs in Redis on the older state (version 2); the replay replaces that
        // state in Redis while the update's write-through waits for the row; the write-through then meets a later,
        // settled version in the copy. It used to take it for a late arrival of a state the copy held, and the
        // acknowledged update was gone.
        await using var nodes = await TwoNodes.StartAsync(await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token));
        var (cutOff, other, session) = (nodes.CutOff, nodes.Other, nodes.Session);
        await cutOff.Coordinator.Sessions.UpdateAsync(session.Id, Patch(("n", 1)), null, Token);
        Assert.Equal(3, (await cutOff.Coordinator.Sessions.UpdateAsync(session.Id, Patch(("m", 1)), null, Token))!.Version);
        var admin = (await nodes.Redis.GetAdminAsync()).GetDatabase();
        var key = KeyOf(cutOff, session.Id);

        await using var dataSource = NpgsqlDataSource.Create(nodes.Postgres.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync(Token);
        Task<Session?> update;
        await using (var transaction = await connection.BeginTransactionAsync(Token))
        {
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
            await using (var hold = new NpgsqlCommand($"SELECT 1 FROM {nodes.Schema}.sessions WHERE session_key = $1 FOR UPDATE", connection, transaction))
#pragma warning restore CA2100
            {
                hold.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
                await hold.ExecuteNonQueryAsync(Token);
            }

            // The replay queues for the row first, then the update's write-through.
            await cutOff.Executor.CircuitControl.CloseAsync(Token);
            await WaitUntilAsync(
                async () =>
                {
                    // The node that made the changes replays at its next session call (a second after a failed try).
                    await cutOff.Coordinator.Sessions.GetAsync(session.Id, Token);
                    return await LockWaitersAsync(dataSource) >= 1;
                },
                "the replay to wait for the row");
            update = other.Coordinator.Sessions.UpdateAsync(session.Id, Patch(("a", 7)), null, Token).AsTask();
            await WaitUntilAsync(async () => (string?)await admin.HashGetAsync(key, "d:a") == "7", "the update to run in Redis");
            await WaitUntilAsync(async () => await LockWaitersAsync(dataSource) >= 2, "the write-through to wait for the row");
            Assert.Equal(2, (long)await admin.HashGetAsync(key, "v"));
            await transaction.CommitAsync(Token);
        }

        var answered = await update.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.Equal(7, answered!.Data["a"].GetInt32());
        Assert.Equal(1, answered.Data["n"].GetInt32());
        Assert.Equal(1, answered.Data["m"].GetInt32());
        await WaitUntilAsync(
            async () => (await other.Coordinator.Sessions.GetAsync(session.Id, Token)) is { } s && s.Data.ContainsKey("a") && s.Data.ContainsKey("m"),
            "the replay to bring the rebased update to Redis");
        Assert.Equal(0, await SessionHost.CountCopyRowsAsync(nodes.Postgres, nodes.Schema, "pending"));
        // The replays recorded the versions of the states they replaced, from above redis_version 1 (Redis's own at 2,
        // then the first replay's at 3): a write-through of one of them is recognised even after a later state Redis
        // made moves redis_version past it.
        Assert.Equal(1, await SessionHost.CountCopyRowsAsync(nodes.Postgres, nodes.Schema, "fork_floor = 1 AND fork_ceiling = 3"));

        await FlushAsync(nodes.Redis);
        var restored = await other.Coordinator.Sessions.GetAsync(session.Id, Token);
        Assert.Equal(answered.Version, restored!.Version);
        Assert.Equal(7, restored.Data["a"].GetInt32());
        Assert.Equal(1, restored.Data["n"].GetInt32());
        Assert.Equal(1, restored.Data["m"].GetInt32());
    }

    private static async Task<long> LockWaitersAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'");
        return (long)(await command.ExecuteScalarAsync(Token))!;
    }

    private static Task WaitUntilAsync(Func<Task<bool>> condition, string what) =>
        ProcessUtil.WaitUntilAsync(condition, TimeSpan.FromSeconds(10), what, Token);

    /// <summary>Two nodes on one Redis and one copy; a session created through the other node, then the first cut off from Redis (its circuit isolated).</summary>
    private sealed class TwoNodes(PostgresServer postgres, RedisServer redis, string schema, CoordinationTestHost cutOff, CoordinationTestHost other, Session session) : IAsyncDisposable
    {
        public PostgresServer Postgres => postgres;

        public RedisServer Redis => redis;

        public string Schema => schema;

        public CoordinationTestHost CutOff => cutOff;

        public CoordinationTestHost Other => other;

        public Session Session => session;

        public static async Task<TwoNodes> StartAsync(PostgresServer pg)
        {
            var redis = await RedisServer.StartAsync(Token);
            var schema = TestKeys.NewSchema();
            var prefix = TestKeys.NewPrefix();
            var cutOff = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, FastFailure, prefix);
            var other = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema, FastFailure, prefix);
            var session = await other.Coordinator.Sessions.CreateAsync("olga", Data(0), null, Token);
            await cutOff.Executor.CircuitControl.IsolateAsync(Token);
            return new TwoNodes(pg, redis, schema, cutOff, other, session);
        }

        public async ValueTask DisposeAsync()
        {
            await cutOff.DisposeAsync();
            await other.DisposeAsync();
            await redis.DisposeAsync();
        }
    }

    private static Dictionary<string, JsonElement?> Patch(params (string Name, int Value)[] fields) =>
        fields.ToDictionary(f => f.Name, f => (JsonElement?)JsonSerializer.SerializeToElement(f.Value));

    private static Task WaitUntilReadsAsync(CoordinationTestHost host, string id, long version, string what) =>
        ProcessUtil.WaitUntilAsync(
            async () => (await host.Coordinator.Sessions.GetAsync(id, Token))?.Version == version,
            TimeSpan.FromSeconds(10),
            what,
            Token);

    private static async Task FlushAsync(RedisServer redis) =>
        await (await redis.GetAdminAsync()).GetDatabase().ExecuteAsync("FLUSHALL");

    private static string TagOf(string id) => id[(id.IndexOf('.', StringComparison.Ordinal) + 1)..];

    private static string KeyOf(CoordinationTestHost host, string id) => SessionHost.SessionKeyOf(host.KeyPrefix, id);


    private static async Task DropTableAsync(PostgresServer pg, string schema)
    {
        await using var dataSource = NpgsqlDataSource.Create(pg.ConnectionString);
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = dataSource.CreateCommand($"DROP TABLE {schema}.sessions");
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync(Token);
    }
}
