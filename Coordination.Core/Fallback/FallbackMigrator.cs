using System.Globalization;
using System.Reflection;
using Npgsql;

namespace Coordination;

/// <summary>
/// Brings the fallback schema to the newest version: numbered SQL files embedded in the assembly, each applied once
/// in order, recorded in <c>{schema}.schema_migrations</c>. Idempotent and safe to run from many replicas at once
/// (a transaction-scoped advisory lock serializes them).
/// </summary>
internal sealed class FallbackMigrator(NpgsqlDataSource dataSource, string schema)
{
    private const string ResourcePrefix = "Coordination.Fallback.Migrations.";

    public static IReadOnlyList<(int Version, string Name, string Sql)> Migrations { get; } = LoadMigrations();

    private volatile bool _migrated;

    /// <summary>
    /// Applies the migrations once for this migrator, on first use: for a store that may be written before the
    /// fallback's background migration at start has finished (applying them again is idempotent and serialized).
    /// </summary>
    public async Task EnsureMigratedAsync(CancellationToken cancellationToken)
    {
        if (!_migrated)
        {
            await MigrateAsync(cancellationToken);
            _migrated = true;
        }
    }

    /// <summary>Applies the missing migrations; returns the schema version afterwards.</summary>
    public async Task<int> MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock(hashtext($1))", cancellationToken, "coordination-migrations:" + schema);
        await ExecuteAsync(connection, $"CREATE SCHEMA IF NOT EXISTS {schema}", cancellationToken);
        await ExecuteAsync(
            connection,
            $"CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
            cancellationToken);

        var applied = new HashSet<int>();
        await using (var query = new NpgsqlCommand($"SELECT version FROM {schema}.schema_migrations", connection))
        await using (var reader = await query.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                applied.Add(reader.GetInt32(0));
            }
        }

        var version = applied.Count == 0 ? 0 : applied.Max();
        foreach (var (migrationVersion, name, sql) in Migrations)
        {
            if (applied.Contains(migrationVersion))
            {
                continue;
            }

            await ExecuteAsync(connection, sql.Replace("{schema}", schema, StringComparison.Ordinal), cancellationToken);
            await ExecuteAsync(connection, $"INSERT INTO {schema}.schema_migrations (version, name) VALUES ($1, $2)", cancellationToken, migrationVersion, name);
            version = Math.Max(version, migrationVersion);
        }

        await transaction.CommitAsync(cancellationToken);
        return version;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
#pragma warning disable CA2100 // Only the validated schema identifier is spliced in; values are parameters.
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static List<(int Version, string Name, string Sql)> LoadMigrations()
    {
        var assembly = Assembly.GetExecutingAssembly();
        var migrations = new List<(int Version, string Name, string Sql)>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(ResourcePrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var name = resource[ResourcePrefix.Length..^".sql".Length];
            var version = int.Parse(name.AsSpan(0, name.IndexOf('_', StringComparison.Ordinal)), CultureInfo.InvariantCulture);
            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            migrations.Add((version, name, reader.ReadToEnd()));
        }

        return migrations;
    }
}
