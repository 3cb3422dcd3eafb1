using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Coordination;

/// <summary>
/// The sessions' durable copy in PostgreSQL (<c>{schema}.sessions</c>, migration 0003). Written through after every
/// change Redis accepted; read when Redis misses a session (it is put back) or is unavailable. Expiry uses the times
/// the session carries (Redis's clock when it was written there) against PostgreSQL's clock when read.
/// </summary>
/// <remarks>
/// The row's <c>schema_version</c> is the schema its data is in (<see cref="ISessionDataUpgrader"/>): written with the
/// data, and read back so that a restore or a read served by the copy upgrades it like a read from Redis.
/// A session may be written before the fallback's migration at start has finished: every call makes sure of the schema first.
/// </remarks>
internal sealed class PostgresSessionStore(NpgsqlDataSource dataSource, string schema)
{
    private readonly FallbackMigrator _migrator = new(dataSource, schema);

    private const string Columns = "session_key, user_key, user_id, data, version, created_at, last_access_at, idle_ms, absolute_at, expires_at, schema_version";

    // A later version wins; at one version, a later access (a slide persisted) does.
    private readonly string _upsert = $"""
        INSERT INTO {schema}.sessions AS s ({Columns})
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        ON CONFLICT (session_key) DO UPDATE SET data = EXCLUDED.data, version = EXCLUDED.version, last_access_at = EXCLUDED.last_access_at,
            idle_ms = EXCLUDED.idle_ms, absolute_at = EXCLUDED.absolute_at, expires_at = EXCLUDED.expires_at, schema_version = EXCLUDED.schema_version
        WHERE s.version < EXCLUDED.version OR (s.version = EXCLUDED.version AND s.last_access_at < EXCLUDED.last_access_at)
        """;
    private readonly string _touch = $"UPDATE {schema}.sessions SET last_access_at = $2, expires_at = $3 WHERE session_key = $1 AND last_access_at < $2";
    private readonly string _get = $"SELECT {Columns} FROM {schema}.sessions WHERE session_key = $1 AND expires_at > now()";
    private readonly string _list = $"SELECT {Columns} FROM {schema}.sessions WHERE user_key = $1 AND expires_at > now() ORDER BY expires_at";
    private readonly string _delete = $"DELETE FROM {schema}.sessions WHERE session_key = $1";
    private readonly string _deleteUser = $"DELETE FROM {schema}.sessions WHERE user_key = $1";
    private readonly string _rename = $"UPDATE {schema}.sessions SET session_key = $2 WHERE session_key = $1";
    private readonly string _purge = $"DELETE FROM {schema}.sessions WHERE ctid IN (SELECT ctid FROM {schema}.sessions WHERE expires_at <= now() LIMIT $1)";

    /// <summary>Writes the session's state unless the copy already holds a newer one.</summary>
    public async Task UpsertAsync(StoredSession stored, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        var session = stored.Session;
        await using var command = dataSource.CreateCommand(_upsert);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stored.Key });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stored.UserKey });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = session.UserId });
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Jsonb, TypedValue = JsonSerializer.Serialize(session.Data) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = session.Version });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = session.CreatedAt });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = session.LastAccessAt });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)stored.IdleTimeout.TotalMilliseconds });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = stored.AbsoluteExpiresAt });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = session.ExpiresAt });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = stored.SchemaVersion });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Persists a slide of the idle expiry, unless a later access was persisted already.</summary>
    public async Task TouchAsync(string key, DateTimeOffset lastAccessAt, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_touch);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = lastAccessAt });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = expiresAt });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The live session under <paramref name="key"/> (by PostgreSQL's clock), or <see langword="null"/>.</summary>
    public async Task<StoredSession?> GetAsync(string key, string id, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_get);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader, _ => id) : null;
    }

    /// <summary>The user's live sessions, soonest expiring first; <paramref name="idOf"/> gives a session's id from its key.</summary>
    public async Task<IReadOnlyList<StoredSession>> ListForUserAsync(string userKey, Func<string, string> idOf, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(_list);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userKey });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var sessions = new List<StoredSession>();
        while (await reader.ReadAsync(cancellationToken))
        {
            sessions.Add(Read(reader, idOf));
        }

        return sessions;
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken) => ExecuteAsync(_delete, key, null, cancellationToken);

    public Task DeleteUserAsync(string userKey, CancellationToken cancellationToken) => ExecuteAsync(_deleteUser, userKey, null, cancellationToken);

    /// <summary>Moves the copy to the session's new key (a rotation).</summary>
    public Task RenameAsync(string key, string newKey, CancellationToken cancellationToken) => ExecuteAsync(_rename, key, newKey, cancellationToken);

    /// <summary>Deletes expired rows, <paramref name="batchSize"/> per statement, until a batch deletes fewer; returns how many.</summary>
    public async Task<long> PurgeExpiredAsync(int batchSize, CancellationToken cancellationToken)
    {
        long purged = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand(_purge);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            purged += deleted;
            if (deleted < batchSize)
            {
                return purged;
            }
        }
    }

    private async Task ExecuteAsync(string sql, string first, string? second, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = first });
        if (second is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = second });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static StoredSession Read(NpgsqlDataReader reader, Func<string, string> idOf)
    {
        var key = reader.GetString(0);
        using var data = JsonDocument.Parse(reader.GetString(3));
        var fields = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in data.RootElement.EnumerateObject())
        {
            fields[property.Name] = property.Value.Clone();
        }

        var session = new Session(
            idOf(key),
            reader.GetString(2),
            fields,
            reader.GetInt64(4),
            reader.GetFieldValue<DateTimeOffset>(5),
            reader.GetFieldValue<DateTimeOffset>(6),
            reader.GetFieldValue<DateTimeOffset>(9));
        return new StoredSession(key, reader.GetString(1), session, TimeSpan.FromMilliseconds(reader.GetInt64(7)), reader.GetFieldValue<DateTimeOffset>(8), reader.GetInt32(10));
    }
}
