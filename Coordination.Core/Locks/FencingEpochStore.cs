using Npgsql;

namespace Coordination;

/// <summary>
/// The fencing epochs in PostgreSQL (<c>{schema}.fencing_epochs</c>, migration 0002): one epoch per life of a Redis
/// server, keyed by its run id. Getting the epoch of a run id inserts it when absent and reads it back, so every node
/// that asks about one run id gets the same epoch, and a run id first seen later gets a larger one (a sequence).
/// </summary>
internal sealed class FencingEpochStore(NpgsqlDataSource dataSource, string schema)
{
    private readonly FallbackMigrator _migrator = new(dataSource, schema);
    private readonly string _insert = $"INSERT INTO {schema}.fencing_epochs (run_id) VALUES ($1) ON CONFLICT (run_id) DO NOTHING";
    private readonly string _select = $"SELECT epoch FROM {schema}.fencing_epochs WHERE run_id = $1";

    /// <summary>The epoch of the Redis server life <paramref name="runId"/>, created when it has none yet.</summary>
    /// <exception cref="NpgsqlException">PostgreSQL could not be reached or refused the statements.</exception>
    public async Task<long> GetOrCreateAsync(string runId, CancellationToken cancellationToken)
    {
        // An epoch may be needed before the fallback's migration at start has finished.
        await _migrator.EnsureMigratedAsync(cancellationToken);

        // Two statements, not one with a CTE: the select must see a row another node inserted concurrently, which a
        // single statement's snapshot would not.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand(_insert, connection))
        {
            insert.Parameters.Add(new NpgsqlParameter<string> { TypedValue = runId });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var select = new NpgsqlCommand(_select, connection);
        select.Parameters.Add(new NpgsqlParameter<string> { TypedValue = runId });
        var epoch = await select.ExecuteScalarAsync(cancellationToken);
        return (long)epoch!;
    }
}
