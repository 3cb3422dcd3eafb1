using Coordination.IntegrationTests.Infrastructure;
using Npgsql;

namespace Coordination.IntegrationTests.Caching;

/// <summary>A real PostgreSQL table <c>{schema}.items(key text primary key, value int)</c>: the system of record behind the cache in the strategy tests.</summary>
public sealed class ItemTable : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource;
    private int _writeCalls;
    private int _loadCalls;

    private ItemTable(NpgsqlDataSource dataSource, string schema)
    {
        _dataSource = dataSource;
        Schema = schema;
    }

    public string Schema { get; }

    public int WriteCalls => Volatile.Read(ref _writeCalls);

    public int LoadCalls => Volatile.Read(ref _loadCalls);

    public static async Task<ItemTable> CreateAsync(PostgresServer server, CancellationToken cancellationToken)
    {
        var schema = TestKeys.NewSchema();
        var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using (var command = dataSource.CreateCommand($"CREATE SCHEMA {schema}; CREATE TABLE {schema}.items (key text PRIMARY KEY, value int NOT NULL)"))
#pragma warning restore CA2100
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        return new ItemTable(dataSource, schema);
    }

    /// <summary>An idempotent batch upsert (the last write of a key in the batch wins), in one statement.</summary>
    public async ValueTask UpsertAsync(IReadOnlyList<KeyValuePair<string, int>> writes, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _writeCalls);
        var last = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (key, value) in writes)
        {
            last[key] = value;
        }

#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = _dataSource.CreateCommand(
            $"INSERT INTO {Schema}.items (key, value) SELECT * FROM unnest($1::text[], $2::int[]) ON CONFLICT (key) DO UPDATE SET value = excluded.value");
#pragma warning restore CA2100
        command.Parameters.Add(new NpgsqlParameter { Value = last.Keys.ToArray() });
        command.Parameters.Add(new NpgsqlParameter { Value = last.Values.ToArray() });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The value of <paramref name="key"/>, or -1 when there is no row.</summary>
    public async ValueTask<int> LoadAsync(string key, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loadCalls);
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = _dataSource.CreateCommand($"SELECT value FROM {Schema}.items WHERE key = $1");
#pragma warning restore CA2100
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        return await command.ExecuteScalarAsync(cancellationToken) is int value ? value : -1;
    }

    public async Task<Dictionary<string, int>> ReadAllAsync(CancellationToken cancellationToken)
    {
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = _dataSource.CreateCommand($"SELECT key, value FROM {Schema}.items");
#pragma warning restore CA2100
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new Dictionary<string, int>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            rows[reader.GetString(0)] = reader.GetInt32(1);
        }

        return rows;
    }

    public async ValueTask DisposeAsync()
    {
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using (var command = _dataSource.CreateCommand($"DROP SCHEMA IF EXISTS {Schema} CASCADE"))
#pragma warning restore CA2100
        {
            await command.ExecuteNonQueryAsync();
        }

        await _dataSource.DisposeAsync();
    }
}
