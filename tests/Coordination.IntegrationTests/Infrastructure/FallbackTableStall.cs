using Npgsql;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// Makes PostgreSQL unable to commit to one fallback table until disposed (an open transaction holding
/// <c>ACCESS EXCLUSIVE</c> on <c>{schema}.kv</c>): the server is shared, so only that test's schema stalls.
/// </summary>
public sealed class FallbackTableStall : IAsyncDisposable
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;

    private FallbackTableStall(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        _connection = connection;
        _transaction = transaction;
    }

    public static async Task<FallbackTableStall> StartAsync(PostgresServer server, string schema, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
#pragma warning disable CA2100 // The schema is a generated identifier of the test.
        await using (var lockTable = new NpgsqlCommand($"LOCK TABLE {schema}.kv IN ACCESS EXCLUSIVE MODE", connection, transaction))
#pragma warning restore CA2100
        {
            await lockTable.ExecuteNonQueryAsync(cancellationToken);
        }

        return new FallbackTableStall(connection, transaction);
    }

    /// <summary>PostgreSQL's clock now (the one the copies' expiry is computed with), not the stalled transaction's start.</summary>
    public async Task<DateTimeOffset> ServerNowAsync(CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT clock_timestamp()", _connection, _transaction);
        return (DateTimeOffset)(DateTime)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Lets PostgreSQL commit again.</summary>
    public async ValueTask DisposeAsync()
    {
        await _transaction.RollbackAsync(CancellationToken.None);
        await _transaction.DisposeAsync();
        await _connection.DisposeAsync();
    }
}
