using Microsoft.Extensions.Diagnostics.HealthChecks;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Coordination.AppHost.Tests;

/// <summary>
/// The AppHost in local hosting mode, end to end: resources come up healthy, the services'
/// health endpoints answer, and the API works through the AppHost's wiring (connection
/// strings, admin key, replicas behind Aspire's proxy).
/// </summary>
[Collection(SharedLocalModeApp.Name)]
public sealed class LocalModeAppHostTests(LocalModeAppFixture fixture)
{
    // Bounds each test as a whole; the waits inside are shorter so their own message wins.
    private const int TestTimeoutMs = 180_000;

    private static readonly TimeSpan HealthyTimeout = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    [Fact(Timeout = TestTimeoutMs)]
    public async Task StartAsync_LocalMode_AllResourcesRunningAndHealthy()
    {
        foreach (var name in LocalModeAppFixture.ResourceNames)
        {
            var resourceEvent = await fixture.WaitForHealthyAsync(name, HealthyTimeout, TestContext.Current.CancellationToken);

            Assert.Equal(KnownResourceStates.Running, resourceEvent.Snapshot.State?.Text);
            Assert.Equal(HealthStatus.Healthy, resourceEvent.Snapshot.HealthStatus);
        }
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task GetConnectionStringAsync_LocalMode_PointsAtLoopbackServers()
    {
        await fixture.WaitForHealthyAsync("coordinationdb", HealthyTimeout, TestContext.Current.CancellationToken);
        var cancellationToken = TestContext.Current.CancellationToken;

        var redis = await fixture.App.GetConnectionStringAsync("redis", cancellationToken);
        var database = await fixture.App.GetConnectionStringAsync("coordinationdb", cancellationToken);

        Assert.Matches(@"^127\.0\.0\.1:\d+$", redis);
        Assert.NotNull(database);
        Assert.StartsWith("Host=127.0.0.1;Port=", database, StringComparison.Ordinal);
        Assert.EndsWith(";Database=coordinationdb", database, StringComparison.Ordinal);
    }

    [Theory(Timeout = TestTimeoutMs)]
    [InlineData("api")]
    [InlineData("worker")]
    public async Task GetHealth_Service_Returns200Healthy(string resourceName)
    {
        await fixture.WaitForHealthyAsync(resourceName, HealthyTimeout, TestContext.Current.CancellationToken);
        using var client = CreateClient(resourceName);

        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Healthy", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task KeyValue_PutThenGetWithAdminKey_RoundTripsValue()
    {
        await fixture.WaitForHealthyAsync("api", HealthyTimeout, TestContext.Current.CancellationToken);
        var cancellationToken = TestContext.Current.CancellationToken;
        using var client = CreateClient("api");
        client.DefaultRequestHeaders.Add("X-Api-Key", fixture.AdminApiKey);
        var key = $"apphost-tests-{Guid.NewGuid():N}";
        var path = new Uri($"/v1/kv/{key}", UriKind.Relative);
        var value = JsonSerializer.SerializeToElement(new { greeting = "hello", count = 42 });

        using var put = await client.PutAsJsonAsync(path, new { value, ttlMs = 60_000 }, cancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);

        using var get = await client.GetAsync(path, cancellationToken);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        using var body = JsonDocument.Parse(await get.Content.ReadAsStringAsync(cancellationToken));
        var root = body.RootElement;
        Assert.Equal(key, root.GetProperty("key").GetString());
        Assert.True(
            JsonElement.DeepEquals(value, root.GetProperty("value")),
            $"The value came back as {root.GetProperty("value").GetRawText()}.");
        var ttlMs = root.GetProperty("ttlMs").GetInt64();
        Assert.InRange(ttlMs, 1, 60_000);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task KeyValue_GetWithoutApiKey_Returns401()
    {
        await fixture.WaitForHealthyAsync("api", HealthyTimeout, TestContext.Current.CancellationToken);
        using var client = CreateClient("api");

        using var response = await client.GetAsync(new Uri("/v1/kv/x", UriKind.Relative), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private HttpClient CreateClient(string resourceName)
    {
        var client = fixture.App.CreateHttpClient(resourceName, "http");
        client.Timeout = RequestTimeout;
        return client;
    }
}
