using System.Globalization;
using System.Net;
using Coordination.Api.Tests.Infrastructure;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Api.Tests.Limits;

/// <summary>
/// The tenants' request rate (<c>Coordination:Api:RateLimit</c>, decided in Redis): a tenant over its policy gets 429
/// <c>rate-limited</c> with <c>Retry-After</c> and the <c>RateLimit-*</c> headers while another tenant is served; allowed
/// answers carry the headers; status and health are not counted; an administrator's override raises or lowers one
/// tenant's limit; while Redis cannot decide, requests go ahead (fail open). Each test starts its own API with a small
/// policy.
/// </summary>
public sealed class TenantRequestRateTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task TenantOverItsPolicy_Gets429WithTheFourHeaders_OtherTenantServed_StatusNotCounted()
    {
        await using var api = StartApi(limit: 4);
        using var tenantA = api.CreateApiClient();
        using var tenantB = api.CreateApiClient(ApiFactory.OtherTenantKey);
        using var anonymous = api.CreateApiClient(apiKey: null);
        var key = NewName();

        for (var remaining = 3; remaining >= 1; remaining--)
        {
            using var allowed = await tenantA.GetAsync(Kv(key), Cancellation);
            Assert.Equal(HttpStatusCode.NotFound, allowed.StatusCode);
            Assert.Equal(("4", remaining.ToString(CultureInfo.InvariantCulture)), (Header(allowed, "RateLimit-Limit"), Header(allowed, "RateLimit-Remaining")));
            Assert.InRange(long.Parse(Header(allowed, "RateLimit-Reset")!, CultureInfo.InvariantCulture), 1, 60);
        }

        // An answer the exception handler writes (409 lock-not-held) carries the headers too; lock calls are counted.
        using (var notHeld = await tenantA.DeleteAsync(Lock(NewName("lock"), "no-such-token"), Cancellation))
        {
            await AssertProblemAsync(notHeld, HttpStatusCode.Conflict, "lock-not-held");
            Assert.Equal(("4", "0"), (Header(notHeld, "RateLimit-Limit"), Header(notHeld, "RateLimit-Remaining")));
        }

        using (var lockRefused = await tenantA.PostAsync(Lock(NewName("lock")), Json("""{"ttlMs":1000}"""), Cancellation))
        {
            await AssertProblemAsync(lockRefused, (HttpStatusCode)429, "rate-limited");
        }

        // Requests without a valid key are not counted: they are 401, not 429.
        using (var unauthenticated = await anonymous.GetAsync(Kv(key), Cancellation))
        {
            await AssertProblemAsync(unauthenticated, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using (var refused = await tenantA.PutAsync(Kv(key), Json("""{"value":1}"""), Cancellation))
        {
            await AssertProblemAsync(refused, (HttpStatusCode)429, "rate-limited");
            Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
            Assert.Equal(("4", "0"), (Header(refused, "RateLimit-Limit"), Header(refused, "RateLimit-Remaining")));
            Assert.InRange(long.Parse(Header(refused, "RateLimit-Reset")!, CultureInfo.InvariantCulture), 1, 60);
        }

        // Nothing was done for the refused request.
        using (var stillMissing = await tenantB.GetAsync(Kv(key), Cancellation))
        {
            Assert.Equal(HttpStatusCode.NotFound, stillMissing.StatusCode);
            Assert.Equal("3", Header(stillMissing, "RateLimit-Remaining"));
        }

        await SendExpectingAsync(tenantB, HttpMethod.Put, Kv(key), """{"value":2}""");

        for (var i = 0; i < 5; i++)
        {
            using var status = await tenantA.GetAsync(new Uri("/v1/status", UriKind.Relative), Cancellation);
            await AssertStatusAsync(status, HttpStatusCode.OK);
            Assert.False(status.Headers.Contains("RateLimit-Limit"));
            using var health = await tenantA.GetAsync(new Uri("/alive", UriKind.Relative), Cancellation);
            await AssertStatusAsync(health, HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task OverrideSetByAnAdministrator_LowersOneTenant_RaisesAnother()
    {
        await using var api = StartApi(limit: 5);
        using var admin = api.CreateApiClient(ApiFactory.AdminKey);
        using var tenantA = api.CreateApiClient();
        using var tenantB = api.CreateApiClient(ApiFactory.OtherTenantKey);

        // Each of the admin's requests is one of tenant A's (the admin key is tenant A's).
        await SendExpectingAsync(admin, HttpMethod.Put, Override("tenant-b"), """{"algorithm":"fixed-window","limit":2,"periodMs":60000}""");
        for (var i = 0; i < 2; i++)
        {
            using var allowed = await tenantB.GetAsync(Kv(NewName()), Cancellation);
            Assert.Equal(("2", HttpStatusCode.NotFound), (Header(allowed, "RateLimit-Limit"), allowed.StatusCode));
        }

        using (var lowered = await tenantB.GetAsync(Kv(NewName()), Cancellation))
        {
            await AssertProblemAsync(lowered, (HttpStatusCode)429, "rate-limited");
        }

        await SendExpectingAsync(admin, HttpMethod.Put, Override("tenant-a"), """{"algorithm":"fixed-window","limit":50,"periodMs":60000}""");
        for (var i = 0; i < 10; i++)
        {
            using var raised = await tenantA.GetAsync(Kv(NewName()), Cancellation);
            Assert.Equal(("50", HttpStatusCode.NotFound), (Header(raised, "RateLimit-Limit"), raised.StatusCode));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task RedisRefusesTheLimitersWrite_RequestsGoAhead_DecidedLocallyOrFailOpen(bool localFallback)
    {
        var redis = await RedisServer.StartAsync(Cancellation);
        await using (redis)
        {
            await using var api = StartApi(limit: 1000, redis.ConnectionString, new() { ["Coordination:RateLimiting:Fallback:Enabled"] = localFallback ? "true" : "false" });
            using var tenant = api.CreateApiClient();
            var key = NewName();
            await SendExpectingAsync(tenant, HttpMethod.Put, Kv(key), """{"value":"kept"}""");

            // At its memory limit Redis refuses every write, the limiter's script included, and still serves reads.
            var server = (await redis.GetAdminAsync()).GetServer(redis.ConnectionString);
            await server.ConfigSetAsync("maxmemory-policy", "noeviction");
            await server.ConfigSetAsync("maxmemory", "1");

            for (var i = 0; i < 3; i++)
            {
                using var read = await tenant.GetAsync(Kv(key), Cancellation);
                await AssertStatusAsync(read, HttpStatusCode.OK);
                Assert.Equal("kept", (await ReadJsonAsync(read)).GetProperty("value").GetString());

                // With the local fallback this node decides from its share (all of it: one node configured) and says so
                // in the headers; without it the limiter fails open and the answer carries none.
                Assert.Equal(localFallback ? "1000" : null, Header(read, "RateLimit-Limit"));
            }
        }
    }

    [Fact]
    public async Task Disabled_NoHeadersNoLimit()
    {
        await using var api = StartApi(limit: 1, settings: new() { ["Coordination:Api:RateLimit:Enabled"] = "false" });
        using var tenant = api.CreateApiClient();

        for (var i = 0; i < 3; i++)
        {
            using var response = await tenant.GetAsync(Kv(NewName()), Cancellation);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.False(response.Headers.Contains("RateLimit-Limit"));
        }
    }

    [Fact]
    public void RequestPolicyNotDefinedInConfiguration_TheStartFailsNamingTheSetting()
    {
        var failure = Assert.ThrowsAny<Exception>(() =>
        {
            using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
            {
                ["Coordination:Api:RateLimit:Policy"] = "not-defined",
            });
        });

        Assert.Contains("Coordination:Api:RateLimit:Policy", failure.ToString(), StringComparison.Ordinal);
    }

    private ApiFactory StartApi(int limit, string? redis = null, Dictionary<string, string?>? settings = null)
    {
        var configuration = new Dictionary<string, string?>
        {
            ["Coordination:RateLimiting:Policies:api-requests:Algorithm"] = "FixedWindow",
            ["Coordination:RateLimiting:Policies:api-requests:Limit"] = limit.ToString(CultureInfo.InvariantCulture),
            ["Coordination:RateLimiting:Policies:api-requests:Period"] = "00:01:00",
            ["Coordination:RateLimiting:Policies:api-requests:Burst"] = null,
        };
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }

        return ApiFactory.StartOnKestrel(redis ?? Fixture.Redis.ConnectionString, configuration);
    }

    private static Uri Override(string tenant) => new($"/v1/ratelimit/policies/api-requests/tenants/{tenant}", UriKind.Relative);

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;
}
