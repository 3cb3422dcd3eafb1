using System.Globalization;
using System.Text;
using Npgsql;

namespace Coordination;

/// <summary>
/// A PostgreSQL write guarded by a fencing token: it applies only when the caller's token is not older than the
/// one stored with the row, and stores the caller's token with it. A lock holder that paused (GC, network) past
/// its lock's expiry, while another holder took the lock and wrote, is refused instead of overwriting newer data.
/// </summary>
/// <remarks>
/// <para>
/// The table needs a <c>bigint</c> column for the token (<c>fencing_token</c> by default, nullable: a row without a
/// token accepts any). Describe the write once, then run it with the token of the hold you have:
/// </para>
/// <code>
/// var update = new FencedUpdate("accounts").Key("id", accountId).Set("balance", newBalance);
/// await using var handle = await locks.AcquireAsync($"account:{accountId}");
/// if (!await update.ExecuteAsync(dataSource, handle.FencingToken)) { /* a newer holder wrote: give up */ }
/// </code>
/// <para>
/// A token equal to the stored one is accepted (the same hold writing twice; two holds never share a token) unless
/// <see cref="RequireNewerToken"/> is set. With <see cref="InsertIfMissing"/> the write is an upsert
/// (<c>INSERT ... ON CONFLICT (keys) DO UPDATE ... WHERE</c>), which needs a unique constraint on the key columns.
/// Identifiers are quoted; values are sent as parameters. Not thread-safe while being configured; executing a
/// configured instance concurrently is safe.
/// </para>
/// </remarks>
public sealed class FencedUpdate
{
    private readonly string _table;
    private readonly string _fencingColumn;
    private readonly List<(string Column, object? Value)> _keys = [];
    private readonly List<(string Column, object? Value)> _values = [];

    /// <summary>Describes a fenced write to <paramref name="table"/>.</summary>
    /// <param name="table">The table name (quoted as given).</param>
    /// <param name="fencingColumn">The <c>bigint</c> column holding the last accepted fencing token.</param>
    /// <param name="schema">The table's schema; <see langword="null"/> for the search path.</param>
    /// <exception cref="ArgumentException">A name is empty.</exception>
    public FencedUpdate(string table, string fencingColumn = "fencing_token", string? schema = null)
    {
        _table = schema is null ? Quote(table, nameof(table)) : Quote(schema, nameof(schema)) + "." + Quote(table, nameof(table));
        _fencingColumn = Quote(fencingColumn, nameof(fencingColumn));
    }

    /// <summary>Whether a token equal to the stored one is refused too (only strictly newer tokens apply).</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool RequireNewerToken { get; set; }

    /// <summary>Whether a missing row is inserted (an upsert on the key columns) instead of the write not applying.</summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool InsertIfMissing { get; set; }

    /// <summary>Adds a column that identifies the row (<c>WHERE column = value</c>).</summary>
    /// <returns>This instance.</returns>
    /// <exception cref="ArgumentException">The column name is empty.</exception>
    public FencedUpdate Key(string column, object value)
    {
        _keys.Add((Quote(column, nameof(column)), value));
        return this;
    }

    /// <summary>Adds a column to write (<c>SET column = value</c>).</summary>
    /// <returns>This instance.</returns>
    /// <exception cref="ArgumentException">The column name is empty.</exception>
    public FencedUpdate Set(string column, object? value)
    {
        _values.Add((Quote(column, nameof(column)), value));
        return this;
    }

    /// <summary>The SQL the write runs (<c>$n</c> parameters: the values, then the keys, then the token).</summary>
    /// <exception cref="InvalidOperationException">No key column was given.</exception>
    public string CommandText
    {
        get
        {
            if (_keys.Count == 0)
            {
                throw new InvalidOperationException("A fenced write needs at least one key column to identify its row.");
            }

            var tokenParameter = "$" + (_values.Count + _keys.Count + 1).ToString(CultureInfo.InvariantCulture);
            var comparison = RequireNewerToken ? "<" : "<=";
            var sql = new StringBuilder();
            if (!InsertIfMissing)
            {
                sql.Append("UPDATE ").Append(_table).Append(" SET ");
                for (var i = 0; i < _values.Count; i++)
                {
                    sql.Append(_values[i].Column).Append(" = $").Append(i + 1).Append(", ");
                }

                sql.Append(_fencingColumn).Append(" = ").Append(tokenParameter).Append(" WHERE ");
                for (var i = 0; i < _keys.Count; i++)
                {
                    sql.Append(_keys[i].Column).Append(" = $").Append(_values.Count + i + 1).Append(" AND ");
                }

                sql.Append('(').Append(_fencingColumn).Append(" IS NULL OR ").Append(_fencingColumn).Append(' ').Append(comparison).Append(' ').Append(tokenParameter).Append(')');
                return sql.ToString();
            }

            var columns = _values.Select(v => v.Column).Concat(_keys.Select(k => k.Column)).Append(_fencingColumn).ToArray();
            sql.Append("INSERT INTO ").Append(_table).Append(" AS target (").AppendJoin(", ", columns).Append(") VALUES (")
                .AppendJoin(", ", Enumerable.Range(1, columns.Length).Select(i => "$" + i.ToString(CultureInfo.InvariantCulture)))
                .Append(") ON CONFLICT (").AppendJoin(", ", _keys.Select(k => k.Column)).Append(") DO UPDATE SET ");
            foreach (var (column, _) in _values)
            {
                sql.Append(column).Append(" = EXCLUDED.").Append(column).Append(", ");
            }

            sql.Append(_fencingColumn).Append(" = EXCLUDED.").Append(_fencingColumn)
                .Append(" WHERE target.").Append(_fencingColumn).Append(" IS NULL OR target.").Append(_fencingColumn)
                .Append(' ').Append(comparison).Append(" EXCLUDED.").Append(_fencingColumn);
            return sql.ToString();
        }
    }

    /// <summary>Runs the write with <paramref name="fencingToken"/> on a connection from <paramref name="dataSource"/>.</summary>
    /// <returns><see langword="true"/> when the row was written; <see langword="false"/> when a newer token is stored (or the row is missing and <see cref="InsertIfMissing"/> is off).</returns>
    /// <exception cref="InvalidOperationException">No key column was given.</exception>
    /// <exception cref="NpgsqlException">PostgreSQL failed.</exception>
    public async Task<bool> ExecuteAsync(NpgsqlDataSource dataSource, long fencingToken, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await ExecuteAsync(connection, fencingToken, null, cancellationToken);
    }

    /// <summary>Runs the write with <paramref name="fencingToken"/> on an open <paramref name="connection"/>, inside <paramref name="transaction"/> when given.</summary>
    /// <returns><see langword="true"/> when the row was written; <see langword="false"/> when a newer token is stored (or the row is missing and <see cref="InsertIfMissing"/> is off).</returns>
    /// <exception cref="InvalidOperationException">No key column was given.</exception>
    /// <exception cref="NpgsqlException">PostgreSQL failed.</exception>
    public async Task<bool> ExecuteAsync(NpgsqlConnection connection, long fencingToken, NpgsqlTransaction? transaction = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        await using var command = new NpgsqlCommand(CommandText, connection, transaction);
        foreach (var (_, value) in _values.Concat(_keys))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        command.Parameters.Add(new NpgsqlParameter { Value = fencingToken });
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static string Quote(string identifier, string parameterName)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(identifier, parameterName);
        return "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
