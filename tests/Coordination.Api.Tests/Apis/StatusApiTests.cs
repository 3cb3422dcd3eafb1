using System.Net;
using Coordination.Api.Apis;
using Coordination.Api.Models;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Apis;

public sealed class StatusApiTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task GetStatus_Anonymous_ReportsTheStatusWordOnly()
    {
        using var client = Client(apiKey: null);
        var body = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        Assert.Equal(["status"], body.EnumerateObject().Select(p => p.Name));
    }

    [Theory]
    [InlineData(ApiFactory.MemberKey)]
    [InlineData("not-a-key-at-all-but-long-enough-0123456789")]
    public async Task GetStatus_WithoutAdminKey_ReportsTheStatusWordOnly(string apiKey)
    {
        using var client = Client(apiKey);
        var body = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));
        Assert.Equal(["status"], body.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task GetStatus_WithAdminKey_ReportsRedisCircuitFallbackAndVersion()
    {
        using var client = Client(ApiFactory.AdminKey);
        var body = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));
        Assert.Equal("healthy", body.GetProperty("status").GetString());
        var redis = body.GetProperty("redis");
        Assert.True(redis.GetProperty("connected").GetBoolean());
        Assert.True(redis.GetProperty("latencyMs").GetDouble() >= 0);
        Assert.True(redis.GetProperty("pool").GetProperty("size").GetInt32() >= 1);
        Assert.True(redis.GetProperty("pool").GetProperty("connections").GetArrayLength() >= 1);
        Assert.Equal("closed", body.GetProperty("circuit").GetString());
        Assert.False(body.GetProperty("fallback").GetProperty("configured").GetBoolean());
        Assert.False(string.IsNullOrEmpty(body.GetProperty("version").GetString()));
        Assert.DoesNotContain("tenant-a", body.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatus_WithAdminKey_ReportsTheRepairAfterADataLoss()
    {
        using var client = Client(ApiFactory.AdminKey);
        var body = await GetOkAsync(client, new Uri("/v1/status", UriKind.Relative));

        // No fallback store here, so nothing to repair from: the object is there, idle.
        var repair = body.GetProperty("fallback").GetProperty("repair");
        Assert.Equal("idle", repair.GetProperty("state").GetString());
        Assert.Equal(0, repair.GetProperty("rowsRestored").GetInt64());
        Assert.False(repair.TryGetProperty("lossDetectedAt", out var detected) && detected.ValueKind != System.Text.Json.JsonValueKind.Null);

        using var anonymous = Client(apiKey: null);
        var coarse = await GetOkAsync(anonymous, new Uri("/v1/status", UriKind.Relative));
        Assert.DoesNotContain("repair", coarse.GetRawText(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(FallbackRepairState.Idle, "idle")]
    [InlineData(FallbackRepairState.Pending, "pending")]
    [InlineData(FallbackRepairState.Running, "running")]
    public void ToResponse_Repair_StateWordLossTimeAndRowsRestored(FallbackRepairState state, string word)
    {
        var lossAt = new DateTimeOffset(2026, 12, 7, 1, 2, 3, TimeSpan.Zero);
        var status = new CoordinationStatus(
            true,
            0.1,
            new ConnectionPoolStatus(1, 1, 0, 1, 1, []),
            CircuitState.Closed,
            new FallbackStatus(true, true, false, 0) { Repair = new FallbackRepairStatus(state, lossAt, 42) });

        var repair = StatusApi.ToResponse(status).Fallback!.Repair;

        Assert.Equal(new FallbackRepairResponse(word, lossAt, 42), repair);
    }

    [Fact]
    public async Task GetStatusPage_Anonymous_ShowsTheBadgeWithoutDetails()
    {
        using var client = Client(apiKey: null);
        using var response = await client.GetAsync(new Uri("/status", UriKind.Relative), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Contains("nosniff", response.Headers.GetValues("X-Content-Type-Options"));
        var html = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("<meta http-equiv=\"refresh\" content=\"5\">", html, StringComparison.Ordinal);
        Assert.Contains("Healthy", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<td>#", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Version", html, StringComparison.Ordinal);
        Assert.DoesNotContain("Operations", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetStatusPage_WithAdminKey_ShowsTheDetails()
    {
        using var client = Client(ApiFactory.AdminKey);
        using var response = await client.GetAsync(new Uri("/status", UriKind.Relative), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        var html = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.Contains("Healthy", html, StringComparison.Ordinal);
        Assert.Contains("not configured", html, StringComparison.Ordinal);
        Assert.Contains("<tr><th>Repair after data loss</th><td>idle, 0 values restored by this node</td></tr>", html, StringComparison.Ordinal);
        Assert.Contains("<td>#", html, StringComparison.Ordinal);
        Assert.Contains("Version", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_Anonymous_IsHealthy()
    {
        using var client = Client(apiKey: null);
        using var response = await client.GetAsync(new Uri("/health", UriKind.Relative), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
    }
}
