using System.Net;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.Api.Tests.Apis;

/// <summary>
/// <c>nodes</c> and <c>duties</c> of <c>GET /v1/status</c> and <c>/status</c>: two API replicas on one key prefix see
/// each other; only an admin key gets them; nothing secret or tenant-owned is in them.
/// </summary>
public sealed class StatusNodesApiTests(ApiFixture fixture) : ApiTest(fixture), IAsyncLifetime
{
    private readonly string _prefix = "status-nodes-" + Guid.NewGuid().ToString("N")[..12];
    private ApiFactory? _first;
    private ApiFactory? _second;

    public async ValueTask InitializeAsync()
    {
        _first = await StatusTestApis.StartAsync(Fixture.Redis.ConnectionString, Settings("replica-one"));
        _second = await StatusTestApis.StartAsync(Fixture.Redis.ConnectionString, Settings("replica-two"));
    }

    public async ValueTask DisposeAsync()
    {
        if (_second is not null)
        {
            await _second.DisposeAsync();
        }

        if (_first is not null)
        {
            await _first.DisposeAsync();
        }
    }

    [Fact]
    public async Task GetStatus_WithAdminKey_ListsBothReplicasThisOneFirstAndLive()
    {
        using var client = _first!.CreateApiClient(ApiFactory.AdminKey);
        var body = await WaitForNodesAsync(client, nodes => nodes.GetArrayLength() == 2 && nodes.EnumerateArray().All(n => n.TryGetProperty("reportedAt", out _)));

        // The contract's fields stay.
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.True(body.GetProperty("redis").GetProperty("connected").GetBoolean());
        Assert.Equal("closed", body.GetProperty("circuit").GetString());
        Assert.True(body.TryGetProperty("fallback", out _));
        Assert.True(body.TryGetProperty("version", out _));

        Assert.True(body.GetProperty("nodesComplete").GetBoolean());
        Assert.Equal(JsonValueKind.Array, body.GetProperty("duties").ValueKind);
        var nodes = body.GetProperty("nodes").EnumerateArray().ToArray();
        Assert.StartsWith("replica-one@", nodes[0].GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.True(nodes[0].GetProperty("self").GetBoolean());
        Assert.StartsWith("replica-two@", nodes[1].GetProperty("name").GetString(), StringComparison.Ordinal);
        Assert.False(nodes[1].GetProperty("self").GetBoolean());
        Assert.False(nodes[1].GetProperty("stale").GetBoolean());
        foreach (var node in nodes)
        {
            Assert.Equal("api", node.GetProperty("role").GetString());
            Assert.True(node.GetProperty("redis").GetProperty("connected").GetBoolean());
            Assert.True(node.GetProperty("redis").GetProperty("poolSize").GetInt32() >= 1);
            Assert.Equal("closed", node.GetProperty("circuit").GetProperty("state").GetString());
            Assert.Equal(JsonValueKind.Array, node.GetProperty("circuit").GetProperty("transitions").ValueKind);
            Assert.True(node.GetProperty("fallback").TryGetProperty("mirrorBacklog", out _));
            Assert.True(node.GetProperty("locks").TryGetProperty("held", out _));
            Assert.True(node.GetProperty("cache").GetProperty("memory").TryGetProperty("hits", out _));
            Assert.True(node.GetProperty("rateLimits").TryGetProperty("rejected", out _));
        }

        // No keys, tenants, API keys or endpoints.
        var text = body.GetRawText();
        foreach (var secret in new[] { ApiFactory.AdminKey, ApiFactory.MemberKey, "tenant-a", "tenant-b", _prefix, Fixture.Redis.ConnectionString, "127.0.0.1", "endpoint" })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task GetStatus_DutiesRecordedInRedis_ShownToAdmins()
    {
        using var admin = await ConnectionMultiplexer.ConnectAsync(Fixture.Redis.ConnectionString);
        await admin.GetDatabase().HashSetAsync(
            $"{_prefix}:#duties:{{{_prefix}:#duties}}:state",
            "session-cleanup",
            """{"name":"session-cleanup","node":"worker@h:1","lastRunStartedAt":"2026-12-07T10:00:00Z","lastRunEndedAt":"2026-12-07T10:00:01Z","result":"ok","nextRunAt":"2026-12-07T10:05:00Z","runs":4,"failures":0}""");

        using var client = _second!.CreateApiClient(ApiFactory.AdminKey);
        var body = await WaitForNodesAsync(client, _ => true, b => b.GetProperty("duties").GetArrayLength() == 1);
        var duty = body.GetProperty("duties")[0];
        Assert.Equal("session-cleanup", duty.GetProperty("name").GetString());
        Assert.Equal("ok", duty.GetProperty("result").GetString());
        Assert.Equal(4, duty.GetProperty("runs").GetInt64());
        Assert.Equal(new DateTimeOffset(2026, 12, 7, 10, 5, 0, TimeSpan.Zero), duty.GetProperty("nextRunAt").GetDateTimeOffset());

        using var page = await client.GetAsync(new Uri("/status", UriKind.Relative), Cancellation);
        var html = await page.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("<tr data-duty=\"session-cleanup\">", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData(ApiFactory.MemberKey)]
    [InlineData(ApiFactory.OtherTenantKey)]
    public async Task GetStatus_WithoutAdminKey_NoNodesOrDuties(string? apiKey)
    {
        using var client = _first!.CreateApiClient(apiKey);
        var body = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));
        Assert.Equal(["status"], body.EnumerateObject().Select(p => p.Name));

        using var page = await client.GetAsync(new Uri("/status", UriKind.Relative), Cancellation);
        await AssertStatusAsync(page, HttpStatusCode.OK);
        var html = await page.Content.ReadAsStringAsync(Cancellation);
        Assert.DoesNotContain("data-node", html, StringComparison.Ordinal);
        Assert.DoesNotContain("replica-", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatusPage_WithAdminKey_RendersEveryNode()
    {
        using var client = _first!.CreateApiClient(ApiFactory.AdminKey);
        await WaitForNodesAsync(client, nodes => nodes.GetArrayLength() == 2);
        using var response = await client.GetAsync(new Uri("/status", UriKind.Relative), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("<table id=\"nodes\">", html, StringComparison.Ordinal);
        Assert.Contains("data-self=\"true\" data-stale=\"false\"><td data-field=\"name\">replica-one@", html, StringComparison.Ordinal);
        Assert.Contains("data-self=\"false\" data-stale=\"false\"><td data-field=\"name\">replica-two@", html, StringComparison.Ordinal);
        Assert.Contains("<td data-field=\"circuit\" class=\"good\">closed</td>", html, StringComparison.Ordinal);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"2\">", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatus_ASecondReplicaStopsOnPurpose_GoneFromTheListNotShownStale()
    {
        using var client = _first!.CreateApiClient(ApiFactory.AdminKey);
        await WaitForNodesAsync(client, nodes => nodes.GetArrayLength() == 2 && nodes.EnumerateArray().All(n => !n.GetProperty("stale").GetBoolean()));
        await _second!.DisposeAsync();
        _second = null;

        // The stopping replica withdrew its report: it is gone at the next read (a killed one turns stale instead:
        // NodeReporterTests, and the browser test with Redis paused).
        var body = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));
        var nodes = body.GetProperty("nodes");
        Assert.Equal(1, nodes.GetArrayLength());
        Assert.False(nodes[0].GetProperty("stale").GetBoolean());
    }

    private Dictionary<string, string?> Settings(string service) => new()
    {
        ["Coordination:KeyPrefix"] = _prefix,
        ["Coordination:Nodes:ServiceName"] = service,
        ["Coordination:Nodes:Interval"] = "00:00:00.200",
        ["Coordination:Status:CacheDuration"] = "00:00:00",
        ["Coordination:Status:PageRefresh"] = "00:00:02",
    };

    private static async Task<JsonElement> WaitForNodesAsync(HttpClient client, Func<JsonElement, bool> nodes, Func<JsonElement, bool>? body = null)
    {
        JsonElement last = default;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                last = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));
                return last.TryGetProperty("nodes", out var list) && nodes(list) && (body is null || body(last));
            },
            TimeSpan.FromSeconds(10),
            "the nodes of /v1/status",
            Cancellation,
            TimeSpan.FromMilliseconds(50));
        return last;
    }
}
