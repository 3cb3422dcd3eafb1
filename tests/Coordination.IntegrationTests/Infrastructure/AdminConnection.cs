using StackExchange.Redis;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// The admin connection of a test server or Cluster (<see cref="IRedisTarget.GetAdminAsync"/>): admin commands allowed,
/// separate from the connections under test, made again when it was lost.
/// </summary>
internal sealed class AdminConnection : IAsyncDisposable
{
    private ConnectionMultiplexer? _connection;

    /// <summary>The connection to <paramref name="connectionString"/>, connected now if it is not.</summary>
    public async Task<ConnectionMultiplexer> GetAsync(string connectionString)
    {
        if (_connection is { IsConnected: true })
        {
            return _connection;
        }

        await DisposeAsync();
        var options = ConfigurationOptions.Parse(connectionString);
        options.AllowAdmin = true;
        options.AbortOnConnectFail = true;
        options.ConnectTimeout = 5000;
        options.ClientName = "coordination-it-admin";
        _connection = await ConnectionMultiplexer.ConnectAsync(options);
        return _connection;
    }

    /// <summary>Closes the connection (the server went away); the next <see cref="GetAsync"/> connects again.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
    }
}
