namespace Coordination.AppHost.Tests;

/// <summary>
/// The AppHost's application model, neither built nor started: the resource names and wiring
/// that the services and the deployment rely on, in each hosting mode.
/// </summary>
public sealed class AppModelTests
{
    private const int TestTimeoutMs = 60_000;

    // At least 32 characters, as the API requires of every key.
    private const string TestAdminKey = "test-admin-key-0123456789abcdefghij";

    private static readonly TimeSpan CreateTimeout = TimeSpan.FromSeconds(45);

    [Theory(Timeout = TestTimeoutMs)]
    [InlineData("local")]
    [InlineData("container")]
    public async Task CreateAsync_ForcedMode_DefinesFixedResourceNames(string mode)
    {
        await using var appHost = await CreateAsync(mode, TestContext.Current.CancellationToken);

        var names = appHost.Resources.Select(resource => resource.Name).ToHashSet(StringComparer.Ordinal);

        Assert.Superset(new HashSet<string>(["redis", "postgres", "coordinationdb", "api", "worker"]), names);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task CreateAsync_ContainerMode_UsesAspireRedisAndPostgresIntegrations()
    {
        await using var appHost = await CreateAsync("container", TestContext.Current.CancellationToken);

        Assert.IsType<RedisResource>(Assert.Single(appHost.Resources, resource => resource.Name == "redis"));
        Assert.IsType<PostgresServerResource>(Assert.Single(appHost.Resources, resource => resource.Name == "postgres"));
        var database = Assert.IsType<PostgresDatabaseResource>(Assert.Single(appHost.Resources, resource => resource.Name == "coordinationdb"));
        Assert.Equal("coordinationdb", database.DatabaseName);
    }

    [Theory(Timeout = TestTimeoutMs)]
    [InlineData("local")]
    [InlineData("container")]
    public async Task CreateAsync_ForcedMode_ApiHasTwoReplicasAndAdminKey(string mode)
    {
        await using var appHost = await CreateAsync(mode, TestContext.Current.CancellationToken);
        var api = Assert.IsType<ProjectResource>(Assert.Single(appHost.Resources, resource => resource.Name == "api"));

        Assert.True(api.TryGetLastAnnotation<ReplicaAnnotation>(out var replicas));
        Assert.Equal(2, replicas.Replicas);

        // Run the environment callbacks without resolving their values: resolving endpoint
        // references would wait for endpoints that only a started application allocates.
        var environment = new Dictionary<string, object>(StringComparer.Ordinal);
        var context = new EnvironmentCallbackContext(
            appHost.ExecutionContext,
            api,
            environment,
            TestContext.Current.CancellationToken);
        foreach (var callback in api.Annotations.OfType<EnvironmentCallbackAnnotation>())
        {
            await callback.Callback(context);
        }

        var apiKey = Assert.IsType<ParameterResource>(environment["Coordination__ApiKeys__0__Key"]);
        Assert.Equal("admin-api-key", apiKey.Name);
        Assert.True(apiKey.Secret);
        Assert.Equal(TestAdminKey, await apiKey.GetValueAsync(TestContext.Current.CancellationToken));
        Assert.Equal("dev", environment["Coordination__ApiKeys__0__Tenant"]);
        Assert.Equal("admin", environment["Coordination__ApiKeys__0__Role"]);
        Assert.Contains("ConnectionStrings__redis", environment.Keys);
        Assert.Contains("ConnectionStrings__coordinationdb", environment.Keys);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task CreateAsync_Services_ApiHttpEndpointIsExternalWorkerIsNot()
    {
        await using var appHost = await CreateAsync("local", TestContext.Current.CancellationToken);

        // The endpoints come from the projects' launch profiles (Properties/launchSettings.json).
        var api = Assert.Single(appHost.Resources, resource => resource.Name == "api");
        var worker = Assert.Single(appHost.Resources, resource => resource.Name == "worker");
        var apiHttp = Assert.Single(api.Annotations.OfType<EndpointAnnotation>(), endpoint => endpoint.Name == "http");
        var workerHttp = Assert.Single(worker.Annotations.OfType<EndpointAnnotation>(), endpoint => endpoint.Name == "http");
        Assert.True(apiHttp.IsExternal);
        Assert.False(workerHttp.IsExternal);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task CreateAsync_EmbeddedMode_GarnetRedisAbsentPostgresAndServicesWithoutFallback()
    {
        await using var appHost = await CreateAsync("embedded", TestContext.Current.CancellationToken);

        var names = appHost.Resources.Select(resource => resource.Name).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string>(["redis", "postgres", "api", "worker"]), names);
        Assert.DoesNotContain("coordinationdb", names);
        var redis = Assert.IsType<EmbeddedResources.EmbeddedRedisResource>(Assert.Single(appHost.Resources, resource => resource.Name == "redis"));
        Assert.IsType<EmbeddedResources.AbsentPostgresResource>(Assert.Single(appHost.Resources, resource => resource.Name == "postgres"));
        Assert.Equal(
            $"127.0.0.1:{redis.Port},password=test-redis-password",
            await redis.ConnectionStringExpression.GetValueAsync(TestContext.Current.CancellationToken));

        foreach (var name in new[] { "api", "worker" })
        {
            var service = Assert.Single(appHost.Resources, resource => resource.Name == name);
            var environment = new Dictionary<string, object>(StringComparer.Ordinal);
            var context = new EnvironmentCallbackContext(appHost.ExecutionContext, service, environment, TestContext.Current.CancellationToken);
            foreach (var callback in service.Annotations.OfType<EnvironmentCallbackAnnotation>())
            {
                await callback.Callback(context);
            }

            Assert.Contains("ConnectionStrings__redis", environment.Keys);
            Assert.DoesNotContain("ConnectionStrings__coordinationdb", environment.Keys);
            Assert.Equal("false", environment["Coordination__Fallback__Enabled"]);
            Assert.Equal("00:00:00", environment["Coordination__Cache__MemoryTimeToLive"]);
            Assert.DoesNotContain(service.Annotations.OfType<WaitAnnotation>(), wait => wait.Resource.Name == "postgres");
        }
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task CreateAsync_UnknownHostingMode_Throws()
    {
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => CreateAsync("sometimes", TestContext.Current.CancellationToken));
    }

    private static async Task<IDistributedApplicationTestingBuilder> CreateAsync(string mode, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(CreateTimeout);

        return await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [
                $"--Coordination:HostingMode={mode}",
                $"--Parameters:admin-api-key={TestAdminKey}",
                "--Parameters:postgres-password=test-postgres-password",
                "--Parameters:redis-password=test-redis-password",
            ],
            timeout.Token);
    }
}
