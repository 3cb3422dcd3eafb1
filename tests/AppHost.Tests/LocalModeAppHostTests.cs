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

        Assert.Equal($"127.0.0.1:{RedisPort(redis)},password={fixture.RedisPassword}", redis);
        Assert.NotNull(database);
        Assert.StartsWith("Host=127.0.0.1;Port=", database, StringComparison.Ordinal);
        Assert.EndsWith(";Database=coordinationdb", database, StringComparison.Ordinal);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task LocalRedis_LocalMode_RequiresThePasswordAndDoesNotEvict()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await fixture.WaitForHealthyAsync("redis", HealthyTimeout, cancellationToken);
        var port = RedisPort(await fixture.App.GetConnectionStringAsync("redis", cancellationToken));

        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII, false, 1024, leaveOpen: true);
        async Task<string?> SendAsync(string command)
        {
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(command + "\r\n"), cancellationToken);
            return await reader.ReadLineAsync(cancellationToken).AsTask().WaitAsync(RequestTimeout, cancellationToken);
        }

        async Task<string?> ConfigGetAsync(string name)
        {
            Assert.Equal("*2", await SendAsync($"CONFIG GET {name}"));
            for (var i = 0; i < 2; i++)
            {
                await reader.ReadLineAsync(cancellationToken); // $length
                var line = await reader.ReadLineAsync(cancellationToken);
                if (i == 1)
                {
                    return line;
                }
            }

            return null;
        }

        Assert.StartsWith("-NOAUTH", await SendAsync("PING"), StringComparison.Ordinal);
        Assert.StartsWith("-WRONGPASS", await SendAsync("AUTH wrong-password"), StringComparison.Ordinal);
        Assert.Equal("+OK", await SendAsync($"AUTH {fixture.RedisPassword}"));
        Assert.Equal("noeviction", await ConfigGetAsync("maxmemory-policy"));
        Assert.Equal((256L * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture), await ConfigGetAsync("maxmemory"));
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

    // "127.0.0.1:port,password=.." -> port.
    private static int RedisPort(string? connectionString)
    {
        Assert.NotNull(connectionString);
        var endpoint = connectionString.Split(',')[0];
        return int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
