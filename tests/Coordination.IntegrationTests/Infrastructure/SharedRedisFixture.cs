using StackExchange.Redis;

[assembly: AssemblyFixture(typeof(Coordination.IntegrationTests.Infrastructure.SharedRedisFixture))]
[assembly: AssemblyFixture(typeof(Coordination.IntegrationTests.Infrastructure.PostgresFixture))]

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// The Redis shared by every test that does not inject faults: one redis-server, or with the environment variable
/// <c>COORDINATION_TEST_SHARED_REDIS=cluster</c> a Redis Cluster of three primaries (<see cref="RedisCluster"/>), so
/// the whole capability suite runs against a Cluster too. Tests isolate themselves by key prefix
/// (<see cref="TestKeys.NewPrefix"/>) and tenant, never by FLUSHDB, and reach Redis only through
/// <see cref="ConnectionString"/> and <see cref="GetAdminAsync"/> (read keys with
/// <see cref="RedisTargetExtensions.KeysAsync"/>, which scans every primary). A test that needs one server by nature
/// (faults, CONFIG, a server's INFO) starts its own <see cref="RedisServer"/>.
/// </summary>
public sealed class SharedRedisFixture : IRedisTarget, IAsyncLifetime
{
    /// <summary>The environment variable that chooses the shared Redis: unset or <c>server</c>, or <c>cluster</c>.</summary>
    public const string ModeVariable = "COORDINATION_TEST_SHARED_REDIS";

    private RedisServer? _server;
    private RedisCluster? _cluster;

    /// <summary>True when the shared Redis is a Cluster (<c>COORDINATION_TEST_SHARED_REDIS=cluster</c>).</summary>
    public static bool IsCluster =>
        string.Equals(Environment.GetEnvironmentVariable(ModeVariable), "cluster", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// The one server, for the tests of other projects that link this fixture and never run on a cluster (the Worker's);
    /// the integration tests use <see cref="ConnectionString"/> and <see cref="GetAdminAsync"/>.
    /// </summary>
    public RedisServer Server => _server ?? throw new InvalidOperationException(
        _cluster is null ? "The shared Redis is not started." : $"The shared Redis is a Cluster ({ModeVariable}=cluster): use ConnectionString and GetAdminAsync.");

    public string ConnectionString =>
        _cluster?.ConnectionString ?? _server?.ConnectionString ?? throw new InvalidOperationException("The shared Redis is not started.");

    public Task<ConnectionMultiplexer> GetAdminAsync() =>
        _cluster?.GetAdminAsync() ?? _server?.GetAdminAsync() ?? throw new InvalidOperationException("The shared Redis is not started.");

    public async ValueTask InitializeAsync()
    {
        var mode = Environment.GetEnvironmentVariable(ModeVariable);
        if (IsCluster)
        {
            _cluster = await RedisCluster.StartAsync(TestContext.Current.CancellationToken);
        }
        else if (string.IsNullOrEmpty(mode) || string.Equals(mode, "server", StringComparison.OrdinalIgnoreCase))
        {
            _server = await RedisServer.StartAsync(TestContext.Current.CancellationToken);
        }
        else
        {
            throw new InvalidOperationException($"{ModeVariable}={mode} is not known: leave it unset (one server) or set it to cluster.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
