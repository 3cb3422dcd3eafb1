using Coordination.IntegrationTests.Infrastructure;

[assembly: AssemblyFixture(typeof(Coordination.Api.Tests.Infrastructure.ApiFixture))]

namespace Coordination.Api.Tests.Infrastructure;

/// <summary>
/// One redis-server and one API for the whole assembly. Tests isolate themselves by key names
/// (<see cref="ApiTest.NewName"/>), never by flushing, so they run in parallel.
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    private RedisServer? _redis;
    private ApiFactory? _api;

    public RedisServer Redis => _redis ?? throw new InvalidOperationException("Redis is not started.");

    public ApiFactory Api => _api ?? throw new InvalidOperationException("The API is not started.");

    public async ValueTask InitializeAsync()
    {
        _redis = await RedisServer.StartAsync(TestContext.Current.CancellationToken);
        // The OpenAPI document is off outside Development unless asked for; the shared API asks (OpenApiDocumentTests).
        _api = ApiFactory.StartOnKestrel(_redis.ConnectionString, new Dictionary<string, string?> { ["Coordination:OpenApi:Enabled"] = "true" });
    }

    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }

        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}
