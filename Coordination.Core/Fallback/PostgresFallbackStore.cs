using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace Coordination;

/// <summary>
/// The PostgreSQL side of the key/value fallback. Expiry uses PostgreSQL's clock. Rows written while Redis is
/// down are <c>pending</c>; mirrored writes never overwrite a pending row, so the newer fallback write wins.
/// </summary>
internal sealed class PostgresFallbackStore(NpgsqlDataSource dataSource, string schema)
{
    private readonly string _get = $"SELECT value, EXTRACT(EPOCH FROM (expires_at - now())) FROM {schema}.kv WHERE redis_key = $1 AND (expires_at IS NULL OR expires_at > now())";
    private readonly string _setPending = $"""
        INSERT INTO {schema}.kv AS kv (redis_key, value, expires_at, pending, version, updated_at)
        VALUES ($1, $2, now() + $3, true, 1, now())
        ON CONFLICT (redis_key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, pending = true, version = kv.version + 1, updated_at = now()
        """;
    private readonly string _mirrorSet = $"""
        INSERT INTO {schema}.kv AS kv (redis_key, value, expires_at, pending, version, updated_at)
        VALUES ($1, $2, now() + $3, false, 1, now())
        ON CONFLICT (redis_key) DO UPDATE SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at, version = kv.version + 1, updated_at = now()
        WHERE NOT kv.pending
        """;
    private readonly string _mirrorDelete = $"DELETE FROM {schema}.kv WHERE redis_key = $1 AND NOT pending";
    private readonly string _readPending = $"SELECT redis_key, value, EXTRACT(EPOCH FROM (expires_at - now())), expires_at IS NOT NULL AND expires_at <= now(), version FROM {schema}.kv WHERE pending ORDER BY updated_at LIMIT $1";
    private readonly string _clearPending = $"UPDATE {schema}.kv SET pending = false WHERE redis_key = $1 AND version = $2 AND value IS NOT NULL";
    private readonly string _clearPendingDelete = $"DELETE FROM {schema}.kv WHERE redis_key = $1 AND version = $2 AND (value IS NULL OR expires_at <= now())";
    // One batch: a short statement that holds few row locks, repeated until a batch comes back short.
    // Keyset pagination in the index's order; the prefix is a filter, not a range (a collation need not keep a prefix's
    // keys together). Pending rows that hold a value are the latest write of their key, so they are live too.
    private readonly string _readLive = $"""
        SELECT redis_key, value, EXTRACT(EPOCH FROM (expires_at - now())) FROM {schema}.kv
        WHERE redis_key > $1 AND starts_with(redis_key, $2) AND value IS NOT NULL AND (expires_at IS NULL OR expires_at > now())
        ORDER BY redis_key LIMIT $3
        """;
    private readonly string _purgeExpired = $"DELETE FROM {schema}.kv WHERE ctid IN (SELECT ctid FROM {schema}.kv WHERE expires_at <= now() AND NOT pending LIMIT $1)";

    /// <summary>Reads a live value; a pending delete reads as absent.</summary>
    public async Task<(bool Found, byte[]? Value, TimeSpan? TimeToLive)> GetAsync(string key, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(_get);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken) || reader.IsDBNull(0))
        {
            return (false, null, null);
        }

        var value = (byte[])reader[0];
        TimeSpan? ttl = reader.IsDBNull(1) ? null : TimeSpan.FromSeconds((double)reader.GetDecimal(1));
        return (true, value, ttl);
    }

    public Task SetPendingAsync(string key, byte[] value, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        WriteAsync(_setPending, key, value, timeToLive, cancellationToken);

    public Task DeletePendingAsync(string key, CancellationToken cancellationToken) =>
        WriteAsync(_setPending, key, null, null, cancellationToken);

    /// <summary>Copies writes already made in Redis, in order, in one round trip.</summary>
    public async Task MirrorAsync(IReadOnlyList<MirrorWrite> writes, CancellationToken cancellationToken)
    {
        var now = Stopwatch.GetTimestamp();
        await using var batch = dataSource.CreateBatch();
        foreach (var write in writes)
        {
            var command = batch.CreateBatchCommand();
            command.CommandText = write.Value is null ? _mirrorDelete : _mirrorSet;
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = write.Key });
            if (write.Value is not null)
            {
                command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = write.Value });
                command.Parameters.Add(Interval(write.TimeToLiveAt(now)));
            }

            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PendingWrite>> ReadPendingAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(_readPending);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var pending = new List<PendingWrite>();
        while (await reader.ReadAsync(cancellationToken))
        {
            pending.Add(new PendingWrite(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : (byte[])reader[1],
                reader.IsDBNull(2) ? null : TimeSpan.FromSeconds((double)reader.GetDecimal(2)),
                !reader.IsDBNull(3) && reader.GetBoolean(3),
                reader.GetInt64(4)));
        }

        return pending;
    }

    /// <summary>Marks a replayed write done unless a newer write replaced it meanwhile.</summary>
    public async Task ClearPendingAsync(PendingWrite write, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(write.Value is null || write.Expired ? _clearPendingDelete : _clearPending);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = write.Key });
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = write.Version });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Deletes mirrored rows that expired by PostgreSQL's clock, <paramref name="batchSize"/> rows per statement, until
    /// a batch deletes fewer. Pending rows are left to the replay. Returns the rows deleted.
    /// </summary>
    public async Task<long> PurgeExpiredAsync(int batchSize, CancellationToken cancellationToken)
    {
        long purged = 0;
        while (true)
        {
            await using var command = dataSource.CreateCommand(_purgeExpired);
            command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = batchSize });
            var deleted = await command.ExecuteNonQueryAsync(cancellationToken);
            purged += deleted;
            if (deleted < batchSize)
            {
                return purged;
            }
        }
    }

    /// <summary>One statement of the purge: deletes at most <paramref name="limit"/> expired, non-pending rows; returns how many it deleted.</summary>
    public async Task<long> PurgeExpiredOnceAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(_purgeExpired);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Reads up to <paramref name="limit"/> live values of keys starting with <paramref name="keyPrefix"/>, in key order,
    /// after <paramref name="afterKey"/> (the last key of the previous page; empty for the first).
    /// </summary>
    public async Task<IReadOnlyList<MirroredValue>> ReadLiveAsync(string afterKey, string keyPrefix, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(_readLive);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = afterKey });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = keyPrefix });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = limit });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<MirroredValue>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new MirroredValue(
                reader.GetString(0),
                (byte[])reader[1],
                reader.IsDBNull(2) ? null : TimeSpan.FromSeconds((double)reader.GetDecimal(2))));
        }

        return rows;
    }

    private async Task WriteAsync(string sql, string key, byte[]? value, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = key });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = (object?)value ?? DBNull.Value });
        command.Parameters.Add(Interval(timeToLive));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static NpgsqlParameter Interval(TimeSpan? timeToLive) =>
        new() { NpgsqlDbType = NpgsqlDbType.Interval, Value = timeToLive is { } ttl ? ttl : DBNull.Value };
}
