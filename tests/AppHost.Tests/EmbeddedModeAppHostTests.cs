using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

using static Coordination.AppHost.Tests.ApiTestSupport;

namespace Coordination.AppHost.Tests;

/// <summary>
/// The AppHost in embedded hosting mode, end to end: Redis is served by Garnet inside the AppHost, there is no
/// PostgreSQL (the dashboard says so on the <c>postgres</c> resource), and the API still stores values and hands out
/// locks through the AppHost's wiring.
/// </summary>
public sealed class EmbeddedModeAppHostTests(EmbeddedModeAppFixture fixture) : IClassFixture<EmbeddedModeAppFixture>
{
    private const int TestTimeoutMs = 180_000;

    private const string ProblemTypes = "https://coordination.dev/errors/";

    private static readonly TimeSpan HealthyTimeout = TimeSpan.FromMinutes(2);

    [Fact(Timeout = TestTimeoutMs)]
    public async Task StartAsync_EmbeddedMode_RedisIsGarnetAndPostgresIsShownAbsent()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        foreach (var name in new[] { "redis", "api", "worker" })
        {
            var healthy = await fixture.WaitForHealthyAsync(name, HealthyTimeout, cancellationToken);
            Assert.Equal(KnownResourceStates.Running, healthy.Snapshot.State?.Text);
            Assert.Equal(HealthStatus.Healthy, healthy.Snapshot.HealthStatus);
        }

        var resources = fixture.App.Services.GetRequiredService<DistributedApplicationModel>().Resources;
        Assert.DoesNotContain(resources, resource => resource.Name == "coordinationdb");
        Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState("redis", out var redis));
        Assert.Equal("Garnet", redis.Snapshot.ResourceType);
        Assert.Contains(redis.Snapshot.Properties, property => property.Name == "coordination.server" && $"{property.Value}".Contains("Microsoft.Garnet", StringComparison.Ordinal));

        Assert.True(fixture.App.ResourceNotifications.TryGetCurrentState("postgres", out var postgres));
        Assert.Equal("Absent: no fallback", postgres.Snapshot.State?.Text);
        Assert.Equal(KnownResourceStateStyles.Warn, postgres.Snapshot.State?.Style);
        Assert.Contains(postgres.Snapshot.Properties, property => property.Name == "coordination.consequence");

        var connectionString = await fixture.App.GetConnectionStringAsync("redis", cancellationToken);
        Assert.Equal($"127.0.0.1:{RedisPort(connectionString)},password={fixture.RedisPassword}", connectionString);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task EmbeddedRedis_EmbeddedMode_RequiresThePassword()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        await fixture.WaitForHealthyAsync("redis", HealthyTimeout, cancellationToken);
        var port = RedisPort(await fixture.App.GetConnectionStringAsync("redis", cancellationToken));

        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
        var stream = client.GetStream();
        using var reader = new StreamReader(stream, System.Text.Encoding.ASCII, false, 1024, leaveOpen: true);
        async Task<string?> SendAsync(params string[] command)
        {
            var resp = $"*{command.Length}\r\n" + string.Concat(command.Select(part => $"${part.Length}\r\n{part}\r\n"));
            await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(resp), cancellationToken);
            return await reader.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        }

        Assert.StartsWith("-NOAUTH", await SendAsync("PING"), StringComparison.Ordinal);
        Assert.StartsWith("-WRONGPASS", await SendAsync("AUTH", "wrong-password"), StringComparison.Ordinal);
        Assert.Equal("+OK", await SendAsync("AUTH", fixture.RedisPassword));
        Assert.Equal("+PONG", await SendAsync("PING"));
    }

    [Theory(Timeout = TestTimeoutMs)]
    [InlineData("api")]
    [InlineData("worker")]
    public async Task Services_EmbeddedMode_GetNoFallbackConnectionStringAndFallbackOff(string resourceName)
    {
        var healthy = await fixture.WaitForHealthyAsync(resourceName, HealthyTimeout, TestContext.Current.CancellationToken);

        var environment = healthy.Snapshot.EnvironmentVariables.ToDictionary(variable => variable.Name, variable => variable.Value, StringComparer.Ordinal);
        Assert.DoesNotContain("ConnectionStrings__coordinationdb", environment.Keys);
        Assert.Contains("ConnectionStrings__redis", environment.Keys);
        Assert.Equal("false", environment["Coordination__Fallback__Enabled"]);
        Assert.Equal("00:00:00", environment["Coordination__Cache__MemoryTimeToLive"]);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task KeyValueAndLock_EmbeddedMode_WorkThroughTheApi()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;
        var prefix = NewPrefix();

        // A value written through one replica is read through the other: both use the embedded server.
        var path = new Uri($"/v1/kv/{prefix}-greeting", UriKind.Relative);
        using (var put = await replicas[0].PutAsJsonAsync(path, new { value = "hello from garnet", ttlMs = 60_000 }, cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        using (var get = await replicas[1].GetAsync(path, cancellationToken))
        {
            using var body = await ReadJsonAsync(get, cancellationToken);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal("hello from garnet", body.RootElement.GetProperty("value").GetString());
            Assert.InRange(body.RootElement.GetProperty("ttlMs").GetInt64(), 1, 60_000);
        }

        // A lock held through one replica excludes the other until it is released.
        var lockPath = new Uri($"/v1/locks/{prefix}-lock", UriKind.Relative);
        string token;
        long fencingToken;
        using (var acquired = await replicas[0].PostAsJsonAsync(lockPath, new { ttlMs = 30_000 }, cancellationToken))
        {
            using var lease = await ReadJsonAsync(acquired, cancellationToken);
            Assert.True(acquired.StatusCode == HttpStatusCode.OK, $"Acquiring answered {(int)acquired.StatusCode}: {lease.RootElement.GetRawText()}");
            token = lease.RootElement.GetProperty("token").GetString()!;
            fencingToken = lease.RootElement.GetProperty("fencingToken").GetInt64();
        }

        using (var refused = await replicas[1].PostAsJsonAsync(lockPath, new { ttlMs = 30_000 }, cancellationToken))
        {
            using var problem = await ReadJsonAsync(refused, cancellationToken);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal(ProblemTypes + "lock-not-acquired", TypeOf(problem));
        }

        using (var release = await replicas[1].DeleteAsync(new Uri($"{lockPath}?token={Uri.EscapeDataString(token)}", UriKind.Relative), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        }

        using var again = await replicas[1].PostAsJsonAsync(lockPath, new { ttlMs = 30_000 }, cancellationToken);
        using var secondLease = await ReadJsonAsync(again, cancellationToken);
        Assert.True(again.StatusCode == HttpStatusCode.OK, $"Acquiring after the release answered {(int)again.StatusCode}: {secondLease.RootElement.GetRawText()}");
        Assert.True(secondLease.RootElement.GetProperty("fencingToken").GetInt64() > fencingToken);
        using var cleanup = await replicas[1].DeleteAsync(
            new Uri($"{lockPath}?token={Uri.EscapeDataString(secondLease.RootElement.GetProperty("token").GetString()!)}", UriKind.Relative),
            cancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, cleanup.StatusCode);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task Status_EmbeddedMode_EachReplicaReportsTheFallbackNotConfigured()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);

        for (var replica = 0; replica < 2; replica++)
        {
            using var response = await replicas[replica].GetAsync(new Uri("/v1/status", UriKind.Relative), work.Token);
            using var status = await ReadJsonAsync(response, work.Token);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"/v1/status answered {(int)response.StatusCode}: {status.RootElement.GetRawText()}");
            Assert.False(status.RootElement.GetProperty("fallback").GetProperty("configured").GetBoolean());
        }
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task CacheWrite_EmbeddedMode_FailsVisiblyRatherThanLeavingOtherNodesStale()
    {
        // Garnet has no streams: the cache's invalidation log cannot be written, so a cache write must answer an
        // error (never 204 while the other replica keeps an old value). See docs/operations.md, "Garnet".
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var path = new Uri($"/v1/cache/{NewPrefix()}-entry", UriKind.Relative);

        using var put = await replicas[0].PutAsJsonAsync(path, new { value = "v1", ttlMs = 60_000 }, work.Token);

        Assert.True((int)put.StatusCode >= 500, $"A cache write on Garnet answered {(int)put.StatusCode}.");
    }

    // "127.0.0.1:port,password=.." -> port.
    private static int RedisPort(string? connectionString)
    {
        Assert.NotNull(connectionString);
        var endpoint = connectionString.Split(',')[0];
        return int.Parse(endpoint[(endpoint.LastIndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
