using Npgsql;

namespace Coordination.Chaos;

/// <summary>For a session that did not read back: its durable copy's row and Redis's hash, side by side, for the notes.</summary>
internal sealed class SessionDiagnosis(string postgres, RedisControl redis)
{
    public async Task<string> DescribeAsync(string userId, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(postgres);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand(
                $"SELECT session_key, data->>'n', version, pending, ended FROM {ChaosConfiguration.Schema}.sessions WHERE user_id = @user",
                connection);
            command.Parameters.AddWithValue("user", userId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
            {
                return "copy: no row";
            }

            var key = reader.GetString(0);
            var copy = $"copy: n = {reader.GetString(1)}, version {reader.GetInt64(2)}, pending {reader.GetBoolean(3)}, ended {reader.GetBoolean(4)}";
            var hash = (await redis.CliAsync("HMGET", key, "d:n", "v")).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return $"{copy}; Redis: n = {hash.ElementAtOrDefault(0)}, version {hash.ElementAtOrDefault(1)}";
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            return $"diagnosis failed: {ex.Message}";
        }
    }
}
