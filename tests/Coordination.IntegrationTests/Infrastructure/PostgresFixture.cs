namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// One PostgreSQL server for the assembly, started on first use (only a few tests need it, and initdb takes a
/// couple of seconds), torn down when the assembly's tests are done. Tests isolate themselves with their own
/// fallback schema (<see cref="TestKeys.NewSchema"/>).
/// </summary>
public sealed class PostgresFixture : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private Task<PostgresServer>? _server;

    public Task<PostgresServer> GetServerAsync()
    {
        lock (_gate)
        {
            // Not tied to the first caller's token: a cancelled test must not poison the server for the others.
            return _server ??= Task.Run(() => PostgresServer.StartAsync(CancellationToken.None));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task<PostgresServer>? server;
        lock (_gate)
        {
            server = _server;
        }

        if (server is not null)
        {
            try
            {
                await (await server).DisposeAsync();
            }
            catch (InvalidOperationException)
            {
                // It never started; StartAsync cleaned up after itself.
            }
        }
    }
}
