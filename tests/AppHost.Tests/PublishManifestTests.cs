using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.AppHost.Tests;

/// <summary>
/// The AppHost in publish mode (what <c>azd up</c> and <c>aspire publish</c> read): the manifest describes Redis and
/// PostgreSQL as containers whatever this machine has, the api and the worker as projects referencing them, and every
/// secret as a parameter with a generated default, never a value.
/// </summary>
public sealed class PublishManifestTests : IAsyncLifetime
{
    private const int TestTimeoutMs = 120_000;

    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(90);

    private static readonly string[] Secrets = ["postgres-password", "admin-api-key", "redis-password"];

    private readonly string _directory = Directory.CreateTempSubdirectory("apphost-manifest-").FullName;

    private string ManifestPath => Path.Combine(_directory, "aspire-manifest.json");

    [Theory(Timeout = TestTimeoutMs)]
    [InlineData("auto")]
    [InlineData("embedded")]
    public async Task Publish_Manifest_DescribesContainersProjectsReferencesAndSecretParameters(string hostingMode)
    {
        // The hosting mode of run mode must not leak into the manifest: even "embedded" publishes containers.
        var (model, resources) = await PublishAsync(hostingMode, TestContext.Current.CancellationToken);

        var redis = resources.GetProperty("redis");
        Assert.Equal("container.v0", redis.GetProperty("type").GetString());
        Assert.StartsWith("docker.io/library/redis:", redis.GetProperty("image").GetString(), StringComparison.Ordinal);
        Assert.Contains("{redis-password.value}", redis.GetProperty("connectionString").GetString(), StringComparison.Ordinal);

        var postgres = resources.GetProperty("postgres");
        Assert.Equal("container.v0", postgres.GetProperty("type").GetString());
        Assert.StartsWith("docker.io/library/postgres:", postgres.GetProperty("image").GetString(), StringComparison.Ordinal);
        Assert.Equal("{postgres-password.value}", postgres.GetProperty("env").GetProperty("POSTGRES_PASSWORD").GetString());
        var database = resources.GetProperty("coordinationdb");
        Assert.Equal("{postgres.connectionString};Database=coordinationdb", database.GetProperty("connectionString").GetString());

        foreach (var name in new[] { "api", "worker" })
        {
            var service = resources.GetProperty(name);
            Assert.Equal("project.v0", service.GetProperty("type").GetString());
            var environment = service.GetProperty("env");
            Assert.Equal("{redis.connectionString}", environment.GetProperty("ConnectionStrings__redis").GetString());
            Assert.Equal("{coordinationdb.connectionString}", environment.GetProperty("ConnectionStrings__coordinationdb").GetString());
            Assert.False(environment.TryGetProperty("Coordination__Fallback__Enabled", out _), $"{name} must keep its fallback when deployed.");
        }

        var api = resources.GetProperty("api");
        Assert.EndsWith("Coordination.Api.csproj", api.GetProperty("path").GetString(), StringComparison.Ordinal);
        Assert.True(api.GetProperty("bindings").GetProperty("http").GetProperty("external").GetBoolean());
        Assert.Equal("{admin-api-key.value}", api.GetProperty("env").GetProperty("Coordination__ApiKeys__0__Key").GetString());
        Assert.EndsWith("Coordination.Worker.csproj", resources.GetProperty("worker").GetProperty("path").GetString(), StringComparison.Ordinal);

        // The manifest format has no replica count: it is on the model that the deployment tools read.
        var apiResource = Assert.Single(model.Resources, resource => resource.Name == "api");
        Assert.True(apiResource.TryGetLastAnnotation<ReplicaAnnotation>(out var replicas));
        Assert.Equal(2, replicas.Replicas);

        foreach (var secret in Secrets)
        {
            var parameter = resources.GetProperty(secret);
            Assert.Equal("parameter.v0", parameter.GetProperty("type").GetString());
            var input = parameter.GetProperty("inputs").GetProperty("value");
            Assert.True(input.GetProperty("secret").GetBoolean(), $"{secret} must be a secret parameter.");
            Assert.True(input.GetProperty("default").TryGetProperty("generate", out _), $"{secret} must be generated at deployment, not carried.");
        }

        // Nothing of this machine's run mode: no local or embedded servers, no resource only the dashboard knows.
        var manifestText = await File.ReadAllTextAsync(ManifestPath, TestContext.Current.CancellationToken);
        Assert.DoesNotContain("test-secret-", manifestText, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.0.1", manifestText, StringComparison.Ordinal);
        Assert.Equal(
            ["admin-api-key", "api", "coordinationdb", "postgres", "postgres-password", "redis", "redis-password", "worker"],
            resources.EnumerateObject().Select(property => property.Name).Where(name => !name.Contains("uri-encoded", StringComparison.Ordinal) && !name.StartsWith("cond-", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
    }

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public ValueTask DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }

    private async Task<(DistributedApplicationModel Model, JsonElement Resources)> PublishAsync(string hostingMode, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(PublishTimeout);

        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            [
                "--operation", "publish",
                "--publisher", "manifest",
                "--output-path", ManifestPath,
                $"--Coordination:HostingMode={hostingMode}",
                "--Parameters:admin-api-key=test-secret-admin-key-0123456789abcdef",
                "--Parameters:postgres-password=test-secret-postgres",
                "--Parameters:redis-password=test-secret-redis",
            ],
            timeout.Token);
        await using var app = await builder.BuildAsync(timeout.Token);
        var model = app.Services.GetRequiredService<DistributedApplicationModel>();

        // In publish mode the run writes the manifest and ends.
        await app.RunAsync(timeout.Token);
        using var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(ManifestPath, timeout.Token));
        return (model, manifest.RootElement.GetProperty("resources").Clone());
    }
}
