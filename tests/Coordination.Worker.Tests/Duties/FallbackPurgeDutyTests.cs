using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace Coordination.Worker.Tests.Duties;

/// <summary>The duty fallback-purge of the real worker against real redis-server and PostgreSQL.</summary>
public sealed partial class FallbackPurgeDutyTests(SharedRedisFixture redis, PostgresFixture postgres)
{
    private const int FallbackPurged = 1870;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExpiredRows_ArePurgedInBoundedBatches_LiveAndPendingRowsStay()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        var schema = TestKeys.NewSchema();
        await using var app = new WorkerApp(
            redis.Server.ConnectionString,
            [
                new("ConnectionStrings:coordinationdb", pg.ConnectionString),
                new("Coordination:Fallback:Schema", schema),
                new("Coordination:Fallback:PurgeInterval", "1.00:00:00"), // the node's own purge loop stays out of the way
                new("Coordination:Worker:Duties:fallback-purge:Interval", "00:00:00.200"),
                new("Worker:FallbackPurgeRows", "1000"),
            ]);
        await app.StartAsync();
        var monitor = app.Services.GetRequiredService<ICoordinationMonitor>();
        await ProcessUtil.WaitUntilAsync(async () => (await monitor.GetStatusAsync(Token)).Fallback.Ready, TimeSpan.FromSeconds(20), "the fallback schema", Token);

        await using var connection = new NpgsqlConnection(pg.ConnectionString);
        await connection.OpenAsync(Token);
        await ExecuteAsync(connection, $"""
            INSERT INTO {schema}.kv (redis_key, value, expires_at, pending)
            SELECT 'purge-test:expired:' || g, '\x00'::bytea, now() - interval '1 minute', false FROM generate_series(1, 2500) g;
            INSERT INTO {schema}.kv (redis_key, value, expires_at, pending)
            SELECT 'purge-test:live:' || g, '\x00'::bytea, now() + interval '1 hour', false FROM generate_series(1, 10) g;
            INSERT INTO {schema}.kv (redis_key, value, expires_at, pending)
            SELECT 'purge-test:pending:' || g, '\x00'::bytea, now() - interval '1 minute', true FROM generate_series(1, 5) g;
            """);

        await ProcessUtil.WaitUntilAsync(
            async () => await CountAsync(connection, schema, "purge-test:expired:") == 0,
            TimeSpan.FromSeconds(20),
            "the expired rows to be purged",
            Token);

        Assert.Equal(10, await CountAsync(connection, schema, "purge-test:live:"));
        Assert.Equal(5, await CountAsync(connection, schema, "purge-test:pending:"));

        // One bounded statement per run: 2500 rows took at least three runs of at most 1000 rows.
        var purged = app.Events(FallbackPurged).Select(e => long.Parse(Purged().Match(e.Message).Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();
        Assert.All(purged, n => Assert.InRange(n, 0, 1000));
        Assert.True(purged.Count(n => n > 0) >= 3, $"Runs purged [{string.Join(", ", purged)}].");

        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        using var state = JsonDocument.Parse((string)(await db.HashGetAsync($"{app.KeyPrefix}:#duties:{{{app.KeyPrefix}:#duties}}:state", "fallback-purge"))!);
        Assert.Equal("ok", state.RootElement.GetProperty("result").GetString());
        Assert.True(state.RootElement.GetProperty("runs").GetInt64() >= 3);
    }

    [Fact]
    public async Task WithoutFallbackStore_TheDutyRunsAndDoesNothing()
    {
        await using var app = new WorkerApp(redis.Server.ConnectionString, [new("Coordination:Worker:Duties:fallback-purge:Interval", "00:00:00.100")]);
        await app.StartAsync();
        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        var stateKey = $"{app.KeyPrefix}:#duties:{{{app.KeyPrefix}:#duties}}:state";

        await ProcessUtil.WaitUntilAsync(async () => await db.HashExistsAsync(stateKey, "fallback-purge"), TimeSpan.FromSeconds(10), "a recorded run", Token);

        using var state = JsonDocument.Parse((string)(await db.HashGetAsync(stateKey, "fallback-purge"))!);
        Assert.Equal("ok", state.RootElement.GetProperty("result").GetString());
        Assert.Empty(app.Events(FallbackPurged));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync(Token);
    }

    private static async Task<long> CountAsync(NpgsqlConnection connection, string schema, string prefix)
    {
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {schema}.kv WHERE starts_with(redis_key, $1)", connection);
#pragma warning restore CA2100
        command.Parameters.Add(new NpgsqlParameter { Value = prefix });
        return (long)(await command.ExecuteScalarAsync(Token))!;
    }

    [GeneratedRegex(@"Fallback purge: (\d+) expired rows")]
    private static partial Regex Purged();
}
