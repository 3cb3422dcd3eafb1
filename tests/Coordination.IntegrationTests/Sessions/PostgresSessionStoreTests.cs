using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Npgsql;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>The sessions' durable copy against a real PostgreSQL: what it keeps, what wins, what expires.</summary>
public sealed class PostgresSessionStoreTests(PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Upsert_ThenGet_RoundTripsTheSessionAndANewerVersionWins()
    {
        var (store, dataSource, schema) = await CreateAsync();
        await using var _ = dataSource;
        var now = DateTimeOffset.UtcNow;
        var first = Stored("k1", "u", 1, now, now.AddMinutes(10), ("a", "1"), ("b", "\"text\""));
        var second = Stored("k1", "u", 2, now, now.AddMinutes(20), ("a", "2"));

        await store.UpsertAsync(first, Token);
        await store.UpsertAsync(second, Token);
        await store.UpsertAsync(first, Token); // late, older: ignored

        var read = await store.GetAsync("k1", "id-k1", Token);
        Assert.NotNull(read);
        Assert.Equal("id-k1", read.Session.Id);
        Assert.Equal("u", read.Session.UserId);
        Assert.Equal(2, read.Session.Version);
        Assert.Equal(["a"], read.Session.Data.Keys);
        Assert.Equal(2, read.Session.Data["a"].GetInt32());
        Assert.Equal(TimeSpan.FromMinutes(5), read.IdleTimeout);
        AssertClose(now.AddMinutes(20), read.Session.ExpiresAt);
        AssertClose(now.AddDays(1), read.AbsoluteExpiresAt);
    }

    [Fact]
    public async Task Upsert_KeepsTheDataSchemaVersion_AndANewerVersionWritesItsOwn()
    {
        var (store, dataSource, _) = await CreateAsync();
        await using var _ = dataSource;
        var now = DateTimeOffset.UtcNow;
        await store.UpsertAsync(Stored("old", "u", 1, now, now.AddMinutes(10), ("name", "\"Ada\"")), Token);
        await store.UpsertAsync(Stored("upgraded", "u", 1, now, now.AddMinutes(10), ("name", "\"Ada\"")) with { SchemaVersion = 3 }, Token);
        await store.UpsertAsync(Stored("old", "u", 2, now, now.AddMinutes(10), ("fullName", "\"Ada\"")) with { SchemaVersion = 3 }, Token);
        await store.UpsertAsync(Stored("upgraded", "u", 1, now.AddMinutes(-1), now.AddMinutes(10)), Token); // older: ignored, schema included

        Assert.Equal(3, (await store.GetAsync("old", "id", Token))!.SchemaVersion);
        Assert.Equal(3, (await store.GetAsync("upgraded", "id", Token))!.SchemaVersion);
        Assert.All(await store.ListForUserAsync("user:u", key => key, Token), s => Assert.Equal(3, s.SchemaVersion));
    }

    [Fact]
    public async Task ReplayLocked_AChangeMadeInTheCopyMeanwhile_WaitsForTheReplayAndStaysPendingOnTop()
    {
        var (store, dataSource, _) = await CreateAsync();
        await using var _ = dataSource;
        var created = await store.CreatePendingAsync("k", "user:u", "u", "id-k", new Dictionary<string, JsonElement> { ["n"] = JsonSerializer.SerializeToElement(1) }, 1, TimeSpan.FromMinutes(5), TimeSpan.FromHours(1), Token);
        Task<StoredSession?>? concurrent = null;
        long replayedVersion = 0;

        await store.ReplayLockedAsync("k", key => "id-" + key, async row =>
        {
            replayedVersion = row!.Stored.Session.Version;
            // Another node, for which Redis fails, changes the session in the copy while this row is being replayed.
            concurrent = store.UpdatePendingAsync("k", "id-k", created.Session.Version, new Dictionary<string, JsonElement> { ["n"] = JsonSerializer.SerializeToElement(2) }, 1, Token);
            await Task.Delay(300, Token);
            Assert.False(concurrent.IsCompleted, "the change landed under the replay's lock");
            return new ReplayOutcome(replayedVersion, RedisVersion: replayedVersion);
        }, Token);

        var changed = await concurrent!.WaitAsync(TimeSpan.FromSeconds(10), Token);
        Assert.Equal(created.Session.Version, replayedVersion);
        Assert.NotNull(changed);
        Assert.Equal(created.Session.Version + 1, changed.Session.Version);

        // The change is pending again after the replay cleared the row: the next replay carries it to Redis.
        string? replayedAgain = null;
        await store.ReplayLockedAsync("k", key => "id-" + key, row =>
        {
            replayedAgain = row?.Stored.Session.Data["n"].GetRawText();
            return Task.FromResult(new ReplayOutcome(row!.Stored.Session.Version, RedisVersion: row.Stored.Session.Version));
        }, Token);
        Assert.Equal("2", replayedAgain);
        var settled = false;
        await store.ReplayLockedAsync("k", key => "id-" + key, row =>
        {
            settled = row is null;
            return Task.FromResult(default(ReplayOutcome));
        }, Token);
        Assert.True(settled, "nothing pending once replayed");
    }

    [Fact]
    public async Task PersistUpdate_AStateAReplayReplaced_ArrivingAfterALaterStateRedisMade_IsAppliedOnTopOfTheCopy()
    {
        // Found by the Cluster failover test under load. The copy held changes made during the outage (versions 2 and 3;
        // Redis at 1). An update ran in Redis on version 1 (a fork: version 2). The replay replaced it with the copy's
        // state (version 3) while the fork's write-through waited for the row. An update Redis then made on the replayed
        // state (version 4) was written through first and moved redis_version to 4, so the fork's write-through, last,
        // was taken for a late arrival of a state the copy held: acknowledged, and gone.
        var (store, dataSource, _) = await CreateAsync();
        await using var _ = dataSource;
        var now = DateTimeOffset.UtcNow;
        await store.UpsertAsync(Stored("k", "u", 1, now, now.AddMinutes(10), ("n", "0")), Token);
        Assert.NotNull(await store.UpdatePendingAsync("k", "id-k", 1, Fields(("n", "1")), 1, Token));
        Assert.NotNull(await store.UpdatePendingAsync("k", "id-k", 2, Fields(("n", "1"), ("m", "1")), 1, Token));
        long redisVersionAtReplay = -1;
        await store.ReplayLockedAsync("k", key => "id-" + key, row =>
        {
            // What session_replay.lua answers on finding Redis's own state at version 2, above the copy's redis_version.
            redisVersionAtReplay = row!.RedisVersion;
            return Task.FromResult(new ReplayOutcome(3, RedisVersion: row.RedisVersion, ReplacedUpTo: 2));
        }, Token);
        Assert.Equal(1, redisVersionAtReplay);

        var later = Stored("k", "u", 4, now, now.AddMinutes(10), ("n", "1"), ("m", "1"), ("b", "4"));
        Assert.Null(await store.PersistUpdateAsync(later, _ => throw new InvalidOperationException("the later state was rebased"), 1, Token));
        // A state Redis made that the copy holds (below the replaced ones), arriving late, is still taken for one.
        Assert.Null(await store.PersistUpdateAsync(Stored("k", "u", 1, now, now.AddMinutes(10), ("n", "0")), _ => throw new InvalidOperationException("a late arrival was rebased"), 1, Token));
        Assert.Equal(4, (await store.GetAsync("k", "id-k", Token))!.Session.Version);

        var fork = Stored("k", "u", 2, now, now.AddMinutes(10), ("n", "0"), ("a", "7"));
        var rebased = await store.PersistUpdateAsync(fork, copy => new Dictionary<string, JsonElement>(copy.Session.Data) { ["a"] = JsonSerializer.SerializeToElement(7) }, 1, Token);

        Assert.NotNull(rebased);
        Assert.Equal(5, rebased.Session.Version);
        Assert.Equal(7, rebased.Session.Data["a"].GetInt32());
        Assert.Equal(4, rebased.Session.Data["b"].GetInt32());
        Assert.Equal(1, rebased.Session.Data["m"].GetInt32());
        var read = await store.GetAsync("k", "id-k", Token);
        Assert.Equal(5, read!.Session.Version);
    }

    [Fact]
    public async Task Touch_ExtendsOnlyWithALaterAccess()
    {
        var (store, dataSource, schema) = await CreateAsync();
        await using var _ = dataSource;
        var now = DateTimeOffset.UtcNow;
        await store.UpsertAsync(Stored("k", "u", 1, now, now.AddSeconds(30)), Token);

        await store.TouchAsync("k", now.AddSeconds(10), now.AddMinutes(5), Token);
        await store.TouchAsync("k", now.AddSeconds(5), now.AddSeconds(35), Token); // older access: ignored

        var read = await store.GetAsync("k", "id", Token);
        AssertClose(now.AddMinutes(5), read!.Session.ExpiresAt);
        AssertClose(now.AddSeconds(10), read.Session.LastAccessAt);
    }

    [Fact]
    public async Task ExpiredSessions_AreNotReadNorListed_AndArePurgedInBatches()
    {
        var (store, dataSource, schema) = await CreateAsync();
        await using var _ = dataSource;
        var now = DateTimeOffset.UtcNow;
        await store.UpsertAsync(Stored("live-late", "u", 1, now, now.AddMinutes(9)), Token);
        await store.UpsertAsync(Stored("live-soon", "u", 1, now, now.AddMinutes(1)), Token);
        for (var i = 0; i < 5; i++)
        {
            await store.UpsertAsync(Stored($"dead-{i}", "u", 1, now.AddHours(-1), now.AddSeconds(-1)), Token);
        }

        await store.UpsertAsync(Stored("other-user", "v", 1, now, now.AddMinutes(1)), Token);

        Assert.Null(await store.GetAsync("dead-0", "id", Token));
        var listed = await store.ListForUserAsync("user:u", key => "id-" + key, Token);
        Assert.Equal(["id-live-soon", "id-live-late"], listed.Select(s => s.Session.Id));
        Assert.Equal(5, await store.PurgeExpiredAsync(2, Token));
        Assert.Equal(0, await store.PurgeExpiredAsync(2, Token));
        Assert.Equal(3, await CountRowsAsync(dataSource, schema));
    }

    [Fact]
    public async Task RenameDeleteAndDeleteUser_ChangeOnlyWhatTheyName()
    {
        var (store, dataSource, schema) = await CreateAsync();
        await using var _ = dataSource;
        var now = DateTimeOffset.UtcNow;
        await store.UpsertAsync(Stored("old", "u", 3, now, now.AddMinutes(1), ("x", "1")), Token);
        await store.UpsertAsync(Stored("gone", "u", 1, now, now.AddMinutes(1)), Token);
        await store.UpsertAsync(Stored("kept", "v", 1, now, now.AddMinutes(1)), Token);

        await store.RenameAsync("old", "new", Token);
        Assert.Null(await store.GetAsync("old", "id", Token));
        var renamed = await store.GetAsync("new", "id", Token);
        Assert.Equal(3, renamed!.Session.Version);
        Assert.Equal(1, renamed.Session.Data["x"].GetInt32());

        await store.DeleteAsync("gone", Token);
        Assert.Null(await store.GetAsync("gone", "id", Token));
        await store.DeleteUserAsync("user:u", Token);
        Assert.Null(await store.GetAsync("new", "id", Token));
        Assert.NotNull(await store.GetAsync("kept", "id", Token));
    }

    private async Task<(PostgresSessionStore Store, NpgsqlDataSource DataSource, string Schema)> CreateAsync()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        var schema = TestKeys.NewSchema();
        var dataSource = NpgsqlDataSource.Create(pg.ConnectionString);
        await new FallbackMigrator(dataSource, schema).MigrateAsync(Token);
        return (new PostgresSessionStore(dataSource, schema), dataSource, schema);
    }

    private static StoredSession Stored(string key, string user, long version, DateTimeOffset lastAccess, DateTimeOffset expiresAt, params (string Name, string Json)[] fields)
    {
        var session = new Session("id-" + key, user, Fields(fields), version, lastAccess.AddMinutes(-1), lastAccess, expiresAt);
        return new StoredSession(key, "user:" + user, session, TimeSpan.FromMinutes(5), lastAccess.AddDays(1));
    }

    private static Dictionary<string, JsonElement> Fields(params (string Name, string Json)[] fields) =>
        fields.ToDictionary(f => f.Name, f => JsonDocument.Parse(f.Json).RootElement.Clone(), StringComparer.Ordinal);

    // PostgreSQL keeps microseconds.
    private static void AssertClose(DateTimeOffset expected, DateTimeOffset actual) =>
        Assert.InRange((actual - expected).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1));

    private static async Task<long> CountRowsAsync(NpgsqlDataSource dataSource, string schema)
    {
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = dataSource.CreateCommand($"SELECT count(*) FROM {schema}.sessions");
#pragma warning restore CA2100
        return (long)(await command.ExecuteScalarAsync(Token))!;
    }
}
