using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Coordination.AppHost.LocalResources;

/// <summary>Healthy when a connection opens and answers <c>SELECT 1</c>.</summary>
/// <param name="connectionString">Resolves the connection string (null while not yet available).</param>
internal sealed class NpgsqlConnectionHealthCheck(Func<CancellationToken, ValueTask<string?>> connectionString) : IHealthCheck
{
    /// <inheritdoc/>
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var value = await connectionString(cancellationToken);
        if (string.IsNullOrEmpty(value))
        {
            return HealthCheckResult.Unhealthy("The connection string is not available yet.");
        }

        // No pooling: an idle pooled connection held by the AppHost would keep PostgreSQL's
        // "smart" shutdown waiting when the AppHost stops the server.
        var builder = new NpgsqlConnectionStringBuilder(value) { Pooling = false };

        try
        {
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or SocketException or IOException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy($"Could not query database '{builder.Database}'.", ex);
        }
    }
}
