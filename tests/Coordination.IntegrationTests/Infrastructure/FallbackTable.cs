using Npgsql;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Reads the fallback store's <c>{schema}.kv</c> table directly, to see what the library wrote.</summary>
public static class FallbackTable
{
    public sealed record Row(string Key, byte[]? Value, bool Pending, DateTimeOffset? ExpiresAt);

    public static async Task<Dictionary<string, Row>> ReadAsync(PostgresServer server, string schema, string keyPrefix, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection) { Parameters = { new() { Value = schema + ".kv" } } };
        await using (exists)
        {
            if (!(bool)(await exists.ExecuteScalarAsync(cancellationToken))!)
            {
                return [];
            }
        }

#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using var command = new NpgsqlCommand($"SELECT redis_key, value, pending, expires_at FROM {schema}.kv WHERE starts_with(redis_key, $1)", connection);
#pragma warning restore CA2100
        command.Parameters.Add(new NpgsqlParameter { Value = keyPrefix + ":" });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new Dictionary<string, Row>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            var key = reader.GetString(0);
            rows[key] = new Row(
                key,
                reader.IsDBNull(1) ? null : (byte[])reader[1],
                reader.GetBoolean(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3));
        }

        return rows;
    }
}
