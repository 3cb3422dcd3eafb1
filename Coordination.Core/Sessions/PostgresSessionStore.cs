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

    // A later version wins; at one version, a later access (a slide persisted) does, unless the row holds a change made
    // while Redis was unavailable (pending: the replay decides). A tombstone (ended) is never brought back.
    private readonly string _upsert = Upsert(
        schema,
        "NOT s.ended AND (s.version < EXCLUDED.version OR (s.version = EXCLUDED.version AND NOT s.pending AND s.last_access_at < EXCLUDED.last_access_at))");

    // The same for the state an update made in Redis, refused where that state may not have started from the copy's:
    // a pending row, or another state at the same version (PersistUpdateAsync then looks closer).
    private readonly string _upsertUpdate = Upsert(
        schema,
        "NOT s.ended AND NOT s.pending AND (s.version < EXCLUDED.version OR (s.version = EXCLUDED.version AND s.data = EXCLUDED.data AND s.last_access_at < EXCLUDED.last_access_at))");

    private readonly string _touch = $"UPDATE {schema}.sessions SET last_access_at = $2, expires_at = $3 WHERE session_key = $1 AND last_access_at < $2 AND NOT ended";
    private readonly string _get = $"SELECT {Columns} FROM {schema}.sessions WHERE session_key = $1 AND expires_at > now() AND NOT ended";
    private readonly string _list = $"SELECT {Columns} FROM {schema}.sessions WHERE user_key = $1 AND expires_at > now() AND NOT ended ORDER BY expires_at";
    private readonly string _delete = $"DELETE FROM {schema}.sessions WHERE session_key = $1 AND NOT ended";
    private readonly string _deleteUser = $"DELETE FROM {schema}.sessions WHERE user_key = $1 AND NOT ended RETURNING session_key";
    private readonly string _rename = $"UPDATE {schema}.sessions SET session_key = $2 WHERE session_key = $1 AND NOT ended";
    private readonly string _purge = $"DELETE FROM {schema}.sessions WHERE ctid IN (SELECT ctid FROM {schema}.sessions WHERE expires_at <= now() AND NOT pending LIMIT $1)";

    // While Redis is unavailable (RedisSessionManager.Outage.cs): changes made here, pending until replayed to Redis.
    // Times come from PostgreSQL's clock, the one clock left.
    private readonly string _createPending = $"""
        INSERT INTO {schema}.sessions ({Columns}, pending)
        VALUES ($1, $2, $3, $4, 1, now(), now(), $5, now() + $6 * interval '1 millisecond', now() + least($5, $6) * interval '1 millisecond', $7, true)
        RETURNING {Columns}
        """;
    private readonly string _updatePending = $"""
        UPDATE {schema}.sessions SET data = $3, schema_version = $4, version = version + 1, last_access_at = now(),
            expires_at = least(now() + idle_ms * interval '1 millisecond', absolute_at), pending = true
        WHERE session_key = $1 AND version = $2 AND expires_at > now() AND NOT ended
        RETURNING {Columns}
        """;
    // A read records the access like Redis does (session_get.lua), but writes only when the row's expiry is more than
    // half an idle timeout behind: at most twice per idle timeout.
    private readonly string _readAndTouch = $"""
        WITH touched AS (
            UPDATE {schema}.sessions SET last_access_at = now(), expires_at = least(now() + idle_ms * interval '1 millisecond', absolute_at), pending = true
            WHERE session_key = $1 AND expires_at > now() AND NOT ended
                AND least(now() + idle_ms * interval '1 millisecond', absolute_at) - expires_at > idle_ms * interval '0.5 millisecond'
            RETURNING {Columns}, true AS touched)
        SELECT * FROM touched
        UNION ALL
        SELECT {Columns}, false FROM {schema}.sessions
        WHERE session_key = $1 AND expires_at > now() AND NOT ended AND NOT EXISTS (SELECT 1 FROM touched)
        """;
    private readonly string _markPending = $"UPDATE {schema}.sessions SET pending = true WHERE session_key = $1 AND expires_at > now() AND NOT ended RETURNING {Columns}";
    private readonly string _end = $"""
        INSERT INTO {schema}.sessions AS s ({Columns}, pending, ended)
        SELECT k, '', '', jsonb_build_object(), 0, now(), now(), 0, now(), now(), 1, true, true FROM unnest($1::text[]) AS k
        ON CONFLICT (session_key) DO UPDATE SET pending = true, ended = true, expires_at = now()
        """;
    private readonly string _readPending = $"SELECT {Columns}, ended FROM {schema}.sessions WHERE pending AND session_key > $1 ORDER BY session_key LIMIT $2";
    private readonly string _dropTombstone = $"DELETE FROM {schema}.sessions WHERE session_key = $1 AND ended";

    // Read under a row lock held while the caller writes what it read into Redis (the replay, a restore): a change made
    // in the copy meanwhile waits for it instead of landing between the read and the write, after which Redis would
    // hold an older version than the copy and the next update through Redis would make a second, different one.
    private readonly string _lockPending = $"SELECT {Columns}, ended, redis_version FROM {schema}.sessions WHERE session_key = $1 AND pending FOR UPDATE";
    private readonly string _lockLive = $"SELECT {Columns}, ended, redis_version FROM {schema}.sessions WHERE session_key = $1 AND expires_at > now() AND NOT ended FOR UPDATE";
    private readonly string _lockAny = $"SELECT {Columns}, ended, pending, redis_version, fork_floor, fork_ceiling FROM {schema}.sessions WHERE session_key = $1 FOR UPDATE";

    // An update made in Redis on a state that lacked the copy's change: the change as rebased, one version above both.
    private readonly string _rebase = $"""
        UPDATE {schema}.sessions SET data = $3, schema_version = $4, version = greatest(version, $2) + 1, last_access_at = now(),
            expires_at = least(now() + idle_ms * interval '1 millisecond', absolute_at), pending = true
        WHERE session_key = $1
        RETURNING {Columns}
        """;
    // A replay that replaced states Redis made itself ($4: the highest of them) records their range (migration 0006).
    private readonly string _settle = $"""
        UPDATE {schema}.sessions SET pending = false, version = $2, redis_version = $3,
            fork_floor = CASE WHEN $4 > 0 THEN $3 ELSE fork_floor END, fork_ceiling = CASE WHEN $4 > 0 THEN $4 ELSE fork_ceiling END
        WHERE session_key = $1 AND NOT ended
        """;

    /// <summary>Writes the session's state unless the copy already holds a newer one.</summary>
    public async Task UpsertAsync(StoredSession stored, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_upsert);
        AddUpsertParameters(command, stored);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Writes the state an update made in Redis produced, like <see cref="UpsertAsync"/>, unless the copy holds a change
    /// that state did not start from: one not yet replayed (pending), or a different state at the same version (the
    /// replay kept Redis's fork). Then <paramref name="rebase"/> gets the copy's session, locked, and returns the data
    /// the session has after the update applied on top of it (null: the copy's data as it is), which the copy takes
    /// one version above both, pending replay; that state is returned. Null when the write went through as usual.
    /// </summary>
    public async Task<StoredSession?> PersistUpdateAsync(StoredSession stored, Func<StoredSession, IReadOnlyDictionary<string, JsonElement>?> rebase, int schemaVersion, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using (var upsert = dataSource.CreateCommand(_upsertUpdate))
        {
            AddUpsertParameters(upsert, stored);
            if (await upsert.ExecuteNonQueryAsync(cancellationToken) > 0)
            {
                return null;
            }
        }

        // Refused: usually the copy holds a later version already (updates persisted out of order); a fork otherwise.
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        StoredSession? copy = null;
        await using (var read = new NpgsqlCommand(_lockAny, connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stored.Key });
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            // Another state at this version, or (the copy having a later one) a version above the states Redis made that
            // the copy holds or among those a replay replaced: a state a replay replaced in Redis before its write-through
            // came (migrations 0005 and 0006; a later state Redis made on the replayed one may have come first).
            if (await reader.ReadAsync(cancellationToken) && !reader.GetBoolean(11)
                && (reader.GetBoolean(12) || (reader.GetInt64(4) == stored.Session.Version
                    ? !SameData(reader.GetString(3), stored.Session.Data)
                    : stored.Session.Version > reader.GetInt64(13) || (stored.Session.Version > reader.GetInt64(14) && stored.Session.Version <= reader.GetInt64(15)))))
            {
                copy = Read(reader, _ => stored.Session.Id);
            }
        }

        if (copy is null)
        {
            return null;
        }

        var data = rebase(copy);
        StoredSession rebased;
        await using (var update = new NpgsqlCommand(_rebase, connection, transaction))
        {
            update.Parameters.Add(new NpgsqlParameter<string> { TypedValue = stored.Key });
            update.Parameters.Add(new NpgsqlParameter<long> { TypedValue = stored.Session.Version });
            update.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Jsonb, TypedValue = JsonSerializer.Serialize(data ?? copy.Session.Data) });
            update.Parameters.Add(new NpgsqlParameter<int> { TypedValue = data is null ? copy.SchemaVersion : schemaVersion });
            await using var reader = await update.ExecuteReaderAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            rebased = Read(reader, _ => stored.Session.Id);
        }

        await transaction.CommitAsync(cancellationToken);
        return rebased;
    }

    /// <summary>Writes a session's state ($1..$11 in <see cref="Columns"/> order) where the row is absent or <paramref name="when"/> holds for it.</summary>
    private static string Upsert(string schema, string when) => $"""
        INSERT INTO {schema}.sessions AS s ({Columns}, redis_version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $5)
        ON CONFLICT (session_key) DO UPDATE SET data = EXCLUDED.data, version = EXCLUDED.version, last_access_at = EXCLUDED.last_access_at,
            idle_ms = EXCLUDED.idle_ms, absolute_at = EXCLUDED.absolute_at, expires_at = EXCLUDED.expires_at, schema_version = EXCLUDED.schema_version,
            pending = false, redis_version = EXCLUDED.redis_version
        WHERE {when}
        """;

    private static bool SameData(string copyData, IReadOnlyDictionary<string, JsonElement> data)
    {
        using var document = JsonDocument.Parse(copyData);
        var count = 0;
        foreach (var property in document.RootElement.EnumerateObject())
        {
            count++;
            if (!data.TryGetValue(property.Name, out var value) || !JsonElement.DeepEquals(property.Value, value))
            {
                return false;
            }
        }

        return count == data.Count;
    }

    private static void AddUpsertParameters(NpgsqlCommand command, StoredSession stored)
    {
        var session = stored.Session;
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
        await _migrator.EnsureMigratedAsync(cancellationToken);
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

    /// <summary>Deletes the copy; answers whether there was one.</summary>
    public async Task<bool> DeleteAsync(string key, CancellationToken cancellationToken) => await ExecuteAsync(_delete, key, null, cancellationToken) > 0;

    /// <summary>Deletes the copies of a user's sessions; answers their keys.</summary>
    public async Task<IReadOnlyList<string>> DeleteUserAsync(string userKey, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_deleteUser);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userKey });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var keys = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    /// <summary>Moves the copy to the session's new key (a rotation); answers whether there was one.</summary>
    public async Task<bool> RenameAsync(string key, string newKey, CancellationToken cancellationToken) => await ExecuteAsync(_rename, key, newKey, cancellationToken) > 0;

    /// <summary>Creates a session here alone, pending replay to Redis (Redis is unavailable); times by PostgreSQL's clock.</summary>
    public async Task<StoredSession> CreatePendingAsync(string key, string userKey, string userId, string id, IReadOnlyDictionary<string, JsonElement> data, int schemaVersion, TimeSpan idle, TimeSpan absolute, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_createPending);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userKey });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = userId });
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Jsonb, TypedValue = JsonSerializer.Serialize(data) });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)idle.TotalMilliseconds });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = (long)absolute.TotalMilliseconds });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = schemaVersion });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return Read(reader, _ => id);
    }

    /// <summary>
    /// Replaces the data of the live copy at <paramref name="version"/>, one version up and accessed now, pending replay;
    /// <see langword="null"/> when the copy is no longer at that version (or ended).
    /// </summary>
    public async Task<StoredSession?> UpdatePendingAsync(string key, string id, long version, IReadOnlyDictionary<string, JsonElement> data, int schemaVersion, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_updatePending);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = version });
        command.Parameters.Add(new NpgsqlParameter<string> { NpgsqlDbType = NpgsqlDbType.Jsonb, TypedValue = JsonSerializer.Serialize(data) });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = schemaVersion });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader, _ => id) : null;
    }

    /// <summary>
    /// The live session under <paramref name="key"/>, read while Redis is unavailable: the access is recorded (pending
    /// replay) when the copy's expiry is more than half an idle timeout behind. Answers whether it was.
    /// </summary>
    public async Task<(StoredSession Session, bool Touched)?> ReadAndTouchAsync(string key, string id, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_readAndTouch);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? (Read(reader, _ => id), reader.GetBoolean(11)) : null;
    }

    /// <summary>Marks the live copy pending replay (a rotation made while Redis is unavailable); <see langword="null"/> when there is none.</summary>
    public async Task<StoredSession?> MarkPendingAsync(string key, string id, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_markPending);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? Read(reader, _ => id) : null;
    }

    /// <summary>Leaves a tombstone pending replay under each key: the sessions ended while Redis was unavailable.</summary>
    public async Task EndAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return;
        }

        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_end);
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. keys] });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Up to <paramref name="batchSize"/> rows pending replay, in key order after <paramref name="afterKey"/>.</summary>
    public async Task<IReadOnlyList<PendingSession>> ReadPendingAsync(string afterKey, int batchSize, Func<string, string> idOf, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(_readPending);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = afterKey });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<PendingSession>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new PendingSession(Read(reader, idOf), reader.GetBoolean(11)));
        }

        return rows;
    }

    /// <summary>
    /// Runs <paramref name="replay"/> with <paramref name="key"/>'s pending row, read under a row lock held until it
    /// returns; then drops the row (a tombstone) or clears its pending mark in the same transaction. A row no longer
    /// pending (replayed by another node) is passed as null and left alone.
    /// </summary>
    public async Task ReplayLockedAsync(string key, Func<string, string> idOf, Func<PendingSession?, Task<ReplayOutcome>> replay, CancellationToken cancellationToken) =>
        await WithRowLockedAsync<bool>(_lockPending, key, idOf, async row =>
        {
            var outcome = await replay(row);
            return row is null ? (true, null, [])
                : row.Ended ? (true, _dropTombstone, [])
                : (true, _settle, [outcome.Version, outcome.RedisVersion, outcome.ReplacedUpTo]);
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="restore"/> with <paramref name="key"/>'s live row (or null), read under a row lock held
    /// until it returns, and returns its answer.
    /// </summary>
    public async Task<T> RestoreLockedAsync<T>(string key, Func<string, string> idOf, Func<StoredSession?, Task<T>> restore, CancellationToken cancellationToken) =>
        await WithRowLockedAsync(_lockLive, key, idOf, async row => (await restore(row?.Stored), (string?)null, Array.Empty<object>()), cancellationToken);

    private async Task<T> WithRowLockedAsync<T>(
        string select, string key, Func<string, string> idOf, Func<PendingSession?, Task<(T Result, string? Then, object[] ThenArguments)>> action, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        PendingSession? row = null;
        await using (var read = new NpgsqlCommand(select, connection, transaction))
        {
            read.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                row = new PendingSession(Read(reader, idOf), reader.GetBoolean(11), reader.GetInt64(12));
            }
        }

        var (result, then, thenArguments) = await action(row);
        if (then is not null)
        {
            await using var settle = new NpgsqlCommand(then, connection, transaction);
            settle.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
            foreach (var argument in thenArguments)
            {
                settle.Parameters.Add(new NpgsqlParameter { Value = argument });
            }

            await settle.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

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

    private async Task<int> ExecuteAsync(string sql, string first, string? second, CancellationToken cancellationToken)
    {
        await _migrator.EnsureMigratedAsync(cancellationToken);
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = first });
        if (second is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = second });
        }

        return await command.ExecuteNonQueryAsync(cancellationToken);
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
