using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;
using static Coordination.IntegrationTests.Sessions.SessionHost;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>
/// Data schema versions: sessions written by a host without upgraders (schema 1), read by hosts with the chain 1→2→3
/// (<see cref="TestUpgraders"/>) on the same key prefix, as during a rolling deployment.
/// </summary>
public sealed class SessionUpgradeTests(SharedRedisFixture redis, PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetAsync_ASessionInSchema1_IsAnsweredUpgradedAndWrittenBack_WithItsVersionAndExpiryKept()
    {
        var prefix = TestKeys.NewPrefix();
        await using var before = await StartAsync(redis, prefix);
        await using var after = await StartAsync(redis, prefix, TestUpgraders.Chain);
        var created = await before.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["name"] = Json("Ada"), ["n"] = Json(7) }, new SessionOptions { IdleTimeout = TimeSpan.FromMinutes(5) }, Token);
        var admin = await before.AdminAsync();
        var key = before.SessionKey(created.Id);
        Assert.False(await admin.HashExistsAsync(key, "s"));

        var read = await after.Sessions.GetAsync(created.Id, Token);

        Assert.NotNull(read);
        Assert.Equal(["country", "fullName", "n"], read.Data.Keys.Order());
        Assert.Equal(("Ada", 7, "unknown"), (read.Data["fullName"].GetString(), read.Data["n"].GetInt32(), read.Data["country"].GetString()));
        Assert.Equal(1, read.Version);
        var hash = (await admin.HashGetAllAsync(key)).ToDictionary(e => (string)e.Name!, e => (string)e.Value!);
        Assert.Equal("3", hash["s"]);
        Assert.Equal("1", hash["v"]);
        Assert.Equal(["d:country", "d:fullName", "d:n"], hash.Keys.Where(f => f.StartsWith("d:", StringComparison.Ordinal)).Order());
        Assert.Equal("\"Ada\"", hash["d:fullName"]);
        // The write-back left the expiry where the read put it.
        Assert.Equal(read.ExpiresAt.ToUnixTimeMilliseconds(), (long)await admin.ExecuteAsync("PEXPIRETIME", key));

        // Written back: the host without upgraders now reads the new form as stored, and so does the upgrading one.
        Assert.Equal(["country", "fullName", "n"], (await before.Sessions.GetAsync(created.Id, Token))!.Data.Keys.Order());
        Assert.Equal(["country", "fullName", "n"], (await after.Sessions.GetAsync(created.Id, Token))!.Data.Keys.Order());

        // A session created by the upgrading host is in schema 3 from the start and is not upgraded again.
        var fresh = await after.Sessions.CreateAsync("user-2", new Dictionary<string, JsonElement> { ["name"] = Json("kept as given") }, null, Token);
        Assert.Equal("3", (string?)await admin.HashGetAsync(after.SessionKey(fresh.Id), "s"));
        Assert.Equal(["name"], (await after.Sessions.GetAsync(fresh.Id, Token))!.Data.Keys);
    }

    [Fact]
    public async Task UpdateListAndRotate_OfSessionsInSchema1_AnswerTheCurrentSchema_AndThePatchAppliesToUpgradedData()
    {
        var prefix = TestKeys.NewPrefix();
        await using var before = await StartAsync(redis, prefix);
        await using var after = await StartAsync(redis, prefix, TestUpgraders.Chain);
        var updated = await before.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["name"] = Json("Ada"), ["n"] = Json(1) }, null, Token);
        var listed = await before.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["name"] = Json("Bob") }, null, Token);
        var rotated = await before.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["name"] = Json("Cy") }, null, Token);
        var admin = await before.AdminAsync();

        // The patch is in the new schema: it sets fullName, and the old name must not come back over it.
        var result = await after.Sessions.UpdateAsync(updated.Id, new Dictionary<string, JsonElement?> { ["fullName"] = Json("Grace"), ["n"] = null }, expectedVersion: 1, Token);

        Assert.NotNull(result);
        Assert.Equal(["country", "fullName"], result.Data.Keys.Order());
        Assert.Equal("Grace", result.Data["fullName"].GetString());
        Assert.Equal(2, result.Version); // the upgrade itself counts no version: the caller's expected 1 held
        Assert.Equal("3", (string?)await admin.HashGetAsync(before.SessionKey(updated.Id), "s"));
        Assert.False(await admin.HashExistsAsync(before.SessionKey(updated.Id), "d:name"));

        var list = await after.Sessions.ListForUserAsync("user-1", Token);
        Assert.Equal(3, list.Count);
        Assert.All(list, s => Assert.Equal(["country", "fullName"], s.Data.Keys.Order()));
        Assert.False(await admin.HashExistsAsync(before.SessionKey(listed.Id), "s")); // a list writes nothing back

        var moved = await after.Sessions.RotateAsync(rotated.Id, Token);
        Assert.Equal(["country", "fullName"], moved!.Data.Keys.Order());
        Assert.Equal("Cy", moved.Data["fullName"].GetString());
        Assert.Equal("3", (string?)await admin.HashGetAsync(before.SessionKey(moved.Id), "s"));
    }

    [Fact]
    public async Task UpgradingReads_RacingUpdates_LoseNoUpdatedField()
    {
        const int SessionCount = 30, UpdatesPerSession = 8, ReadsPerSession = 8;
        var prefix = TestKeys.NewPrefix();
        await using var before = await StartAsync(redis, prefix);
        await using var first = await StartAsync(redis, prefix, TestUpgraders.Chain);
        await using var second = await StartAsync(redis, prefix, TestUpgraders.Chain);
        var sessions = new List<Session>();
        for (var i = 0; i < SessionCount; i++)
        {
            sessions.Add(await before.Sessions.CreateAsync($"user-{i}", new Dictionary<string, JsonElement> { ["name"] = Json($"name-{i}") }, null, Token));
        }

        // Per session, updates of distinct fields and reads, started together from two upgrading hosts.
        using var start = new SemaphoreSlim(0);
        var calls = new List<Task>();
        foreach (var session in sessions)
        {
            for (var j = 0; j < UpdatesPerSession; j++)
            {
                var manager = j % 2 == 0 ? first.Sessions : second.Sessions;
                var field = $"f{j}";
                calls.Add(Task.Run(async () =>
                {
                    await start.WaitAsync(Token);
                    await manager.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { [field] = Json(field) }, null, Token);
                }, Token));
            }

            for (var j = 0; j < ReadsPerSession; j++)
            {
                var manager = j % 2 == 0 ? second.Sessions : first.Sessions;
                calls.Add(Task.Run(async () =>
                {
                    await start.WaitAsync(Token);
                    Assert.Contains("fullName", (await manager.GetAsync(session.Id, Token))!.Data.Keys);
                }, Token));
            }
        }

        start.Release(calls.Count);
        await Task.WhenAll(calls).WaitAsync(TimeSpan.FromSeconds(60), Token);

        var lost = new List<string>();
        foreach (var session in sessions)
        {
            var read = (await first.Sessions.GetAsync(session.Id, Token))!;
            lost.AddRange(Enumerable.Range(0, UpdatesPerSession).Select(j => $"f{j}").Where(f => !read.Data.ContainsKey(f)).Select(f => $"{session.Id}:{f}"));
            if (read.Version != 1 + UpdatesPerSession || !read.Data.ContainsKey("fullName") || read.Data.ContainsKey("name"))
            {
                lost.Add($"{session.Id}: version {read.Version}, fields {string.Join(",", read.Data.Keys)}");
            }
        }

        Assert.Empty(lost);
    }

    [Fact]
    public async Task SessionsInSchema1_RestoredFromTheCopy_OrServedByItWhileRedisIsDown_AreUpgraded_AndTheCopyRecordsTheSchema()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var server = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        var prefix = TestKeys.NewPrefix();
        await using var before = await CoordinationTestHost.StartWithReadyFallbackAsync(server, pg, schema, keyPrefix: prefix);
        await using var after = await CoordinationTestHost.StartWithReadyFallbackAsync(server, pg, schema, keyPrefix: prefix, services: Register(TestUpgraders.Chain));
        var restored = await before.Coordinator.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["name"] = Json("Ada") }, null, Token);
        var servedByCopy = await before.Coordinator.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["name"] = Json("Bob") }, null, Token);
        var view = new SessionHost(before, server);
        Assert.Equal(1, (await ReadCopyAsync(pg, schema, view.SessionKey(restored.Id))).SchemaVersion);

        // Redis loses the session: the upgrading host puts it back from the copy, in the current schema.
        var admin = (await server.GetAdminAsync()).GetDatabase();
        Assert.True(await admin.KeyDeleteAsync(view.SessionKey(restored.Id)));
        var read = await after.Coordinator.Sessions.GetAsync(restored.Id, Token);

        Assert.NotNull(read);
        Assert.Equal(["country", "fullName"], read.Data.Keys.Order());
        Assert.Equal("Ada", read.Data["fullName"].GetString());
        Assert.Equal(1, read.Version);
        Assert.Equal("3", (string?)await admin.HashGetAsync(view.SessionKey(restored.Id), "s"));
        Assert.False(await admin.HashExistsAsync(view.SessionKey(restored.Id), "d:name"));

        // The next change writes the current schema to the copy; a session created by the upgrading host has it from the start.
        await after.Coordinator.Sessions.UpdateAsync(restored.Id, new Dictionary<string, JsonElement?> { ["n"] = Json(1) }, null, Token);
        var copy = await ReadCopyAsync(pg, schema, view.SessionKey(restored.Id));
        Assert.Equal(3, copy.SchemaVersion);
        Assert.Contains("\"fullName\"", copy.Data, StringComparison.Ordinal);
        Assert.DoesNotContain("\"name\"", copy.Data, StringComparison.Ordinal);
        var fresh = await after.Coordinator.Sessions.CreateAsync("user-2", null, null, Token);
        Assert.Equal(3, (await ReadCopyAsync(pg, schema, view.SessionKey(fresh.Id))).SchemaVersion);

        // Redis down: the copy (schema 1) answers, upgraded.
        await server.KillAsync();
        var fromCopy = await after.Coordinator.Sessions.GetAsync(servedByCopy.Id, Token);
        Assert.Equal(["country", "fullName"], fromCopy!.Data.Keys.Order());
        Assert.Equal("Bob", fromCopy.Data["fullName"].GetString());
        await server.RestartAsync(Token);
    }

    [Fact]
    public async Task AnUpgraderThatThrows_FailsTheReadsAndTheUpdate_WithSessionUpgradeFailed_AndChangesNothingStored()
    {
        var prefix = TestKeys.NewPrefix();
        await using var before = await StartAsync(redis, prefix);
        await using var after = await StartAsync(redis, prefix, [typeof(TestUpgraders.ThrowsOnPoison)]);
        var poisoned = await before.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["poison"] = Json(true), ["keep"] = Json(1) }, null, Token);
        var admin = await before.AdminAsync();
        var key = before.SessionKey(poisoned.Id);
        var stored = await StoredStateAsync(admin, key);

        var error = await Assert.ThrowsAsync<SessionUpgradeFailedException>(async () => await after.Sessions.GetAsync(poisoned.Id, Token));
        Assert.Equal((1, 2), (error.FromSchemaVersion, error.ToSchemaVersion));
        Assert.IsType<InvalidOperationException>(error.InnerException);
        Assert.Contains(nameof(TestUpgraders.ThrowsOnPoison), error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<SessionUpgradeFailedException>(async () => await after.Sessions.UpdateAsync(poisoned.Id, new Dictionary<string, JsonElement?> { ["keep"] = Json(2) }, null, Token));
        await Assert.ThrowsAsync<SessionUpgradeFailedException>(async () => await after.Sessions.ListForUserAsync("user-1", Token));
        await Assert.ThrowsAsync<SessionUpgradeFailedException>(async () => await after.Sessions.RotateAsync(poisoned.Id, Token));

        Assert.Equal(stored, await StoredStateAsync(admin, key));
        Assert.Equal(1, (await before.Sessions.GetAsync(poisoned.Id, Token))!.Data["keep"].GetInt32());
    }

    [Fact]
    public async Task AnUpgraderWhoseResultIsOverMaxFields_FailsTheRead_AndChangesNothingStored()
    {
        var prefix = TestKeys.NewPrefix();
        await using var before = await StartAsync(redis, prefix);
        await using var after = await StartAsync(redis, prefix, [typeof(TestUpgraders.AddsTenFields)], ("MaxFields", "5"));
        var session = await before.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["a"] = Json(1) }, null, Token);
        var admin = await before.AdminAsync();
        var stored = await StoredStateAsync(admin, before.SessionKey(session.Id));

        var error = await Assert.ThrowsAsync<SessionUpgradeFailedException>(async () => await after.Sessions.GetAsync(session.Id, Token));

        Assert.Contains("MaxFields", error.Message, StringComparison.Ordinal);
        Assert.IsType<ArgumentException>(error.InnerException);
        Assert.Equal(stored, await StoredStateAsync(admin, before.SessionKey(session.Id)));
    }

    [Theory]
    [InlineData(new[] { typeof(TestUpgraders.AddCountry) }, "none starts from schema version 1")]
    [InlineData(new[] { typeof(TestUpgraders.RenameNameToFullName), typeof(TestUpgraders.ThrowsOnPoison) }, "Two session data upgraders start from schema version 1")]
    public async Task StartAsync_UpgradersThatDoNotFormTheChain_FailNamingTheProblem(Type[] upgraders, string problem)
    {
        var host = CoordinationTestHost.Build(
            new Dictionary<string, string?> { ["ConnectionStrings:redis"] = redis.ConnectionString, ["Coordination:KeyPrefix"] = TestKeys.NewPrefix() },
            services: Register(upgraders));
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(timeout.Token));
            Assert.Contains(problem, error.Message, StringComparison.Ordinal);
        }
        finally
        {
            await ((IAsyncDisposable)host).DisposeAsync();
        }
    }

    private static async Task<SessionHost> StartAsync(SharedRedisFixture server, string prefix, Type[]? upgraders = null, params (string Key, string Value)[] settings) =>
        new(await CoordinationTestHost.StartAsync(
            server.ConnectionString,
            prefix,
            settings.Select(s => new KeyValuePair<string, string?>("Coordination:Sessions:" + s.Key, s.Value)),
            services: Register(upgraders ?? [])), server);

    private static Action<IServiceCollection> Register(Type[] upgraders) =>
        services =>
        {
            foreach (var upgrader in upgraders)
            {
                services.AddSingleton(typeof(ISessionDataUpgrader), upgrader);
            }
        };

    /// <summary>What an upgrade may change: the data fields, s and v (a read's access, a and p, aside).</summary>
    private static async Task<string> StoredStateAsync(IDatabase admin, string key) =>
        string.Join("\n", (await admin.HashGetAllAsync(key)).Where(e => e.Name != "a" && e.Name != "p").Select(e => $"{e.Name}={e.Value}").Order(StringComparer.Ordinal));

    private static async Task<(int SchemaVersion, string Data)> ReadCopyAsync(PostgresServer pg, string schema, string key)
    {
        await using var dataSource = NpgsqlDataSource.Create(pg.ConnectionString);
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = dataSource.CreateCommand($"SELECT schema_version, data::text FROM {schema}.sessions WHERE session_key = $1");
#pragma warning restore CA2100
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(Token);
        Assert.True(await reader.ReadAsync(Token), "the session has a row in the copy");
        return (reader.GetInt32(0), reader.GetString(1));
    }
}
