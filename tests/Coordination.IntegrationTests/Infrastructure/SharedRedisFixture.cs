[assembly: AssemblyFixture(typeof(Coordination.IntegrationTests.Infrastructure.SharedRedisFixture))]
[assembly: AssemblyFixture(typeof(Coordination.IntegrationTests.Infrastructure.PostgresFixture))]

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// One redis-server shared by every test that does not inject faults. Tests isolate themselves by key prefix
/// (<see cref="TestKeys.NewPrefix"/>) and tenant, never by FLUSHDB.
/// </summary>
public sealed class SharedRedisFixture : IAsyncLifetime
{
    private RedisServer? _server;

    public RedisServer Server => _server ?? throw new InvalidOperationException("The shared Redis server is not started.");

    public async ValueTask InitializeAsync() => _server = await RedisServer.StartAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
