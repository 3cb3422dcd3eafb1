using System.Net;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Apis;

/// <summary>
/// <c>/v1/ratelimit</c> on the shared API: policy changes are for admin keys only (403 for members, 401 without a
/// key), a tenant's override applies to that tenant only, acquisitions answer the decision (refusals with
/// <c>retryAfterMs</c>), concurrency leases are released by id, unknown policies are 404 and every broken field is a
/// 400 that names it. Each test defines policies of its own names.
/// </summary>
public sealed class RateLimitApiTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task SetPolicy_AdminOnly_MemberGets403_NoKey401_AdminDefinesIt()
    {
        var policy = NewName("p");
        using var member = Client();
        using var anonymous = Client(apiKey: null);
        using var admin = Client(ApiFactory.AdminKey);
        const string body = """{"algorithm":"token-bucket","limit":5,"periodMs":1000,"burst":10}""";

        using (var forbidden = await member.PutAsync(Policy(policy), Json(body), Cancellation))
        {
            await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var unauthorized = await anonymous.PutAsync(Policy(policy), Json(body), Cancellation))
        {
            await AssertProblemAsync(unauthorized, HttpStatusCode.Unauthorized, "unauthorized");
        }

        using (var missing = await member.GetAsync(Policy(policy), Cancellation))
        {
            var problem = await AssertProblemAsync(missing, HttpStatusCode.NotFound, "not-found");
            Assert.Equal(policy, problem.GetProperty("policy").GetString());
        }

        await SendExpectingAsync(admin, HttpMethod.Put, Policy(policy), body);

        var read = await GetOkAsync(member, Policy(policy));
        Assert.Equal(policy, read.GetProperty("policy").GetString());
        Assert.Equal("token-bucket", read.GetProperty("algorithm").GetString());
        Assert.Equal(5, read.GetProperty("limit").GetInt64());
        Assert.Equal(1000, read.GetProperty("periodMs").GetInt64());
        Assert.Equal(10, read.GetProperty("burst").GetInt64());
        Assert.False(read.GetProperty("adaptive").GetBoolean());
    }

    [Fact]
    public async Task SetOverride_AdminOnly_AppliesToThatTenantOnly()
    {
        var policy = NewName("p");
        using var member = Client();
        using var admin = Client(ApiFactory.AdminKey);
        using var tenantB = Client(ApiFactory.OtherTenantKey);
        await DefineAsync(admin, policy, """{"algorithm":"fixed-window","limit":5,"periodMs":60000}""");
        const string tighter = """{"algorithm":"fixed-window","limit":1,"periodMs":60000}""";

        using (var forbidden = await member.PutAsync(Override(policy, "tenant-b"), Json(tighter), Cancellation))
        {
            await AssertProblemAsync(forbidden, HttpStatusCode.Forbidden, "forbidden");
        }

        using (var unknown = await admin.PutAsync(Override(NewName("p"), "tenant-b"), Json(tighter), Cancellation))
        {
            await AssertProblemAsync(unknown, HttpStatusCode.NotFound, "not-found");
        }

        await SendExpectingAsync(admin, HttpMethod.Put, Override(policy, "tenant-b"), tighter);

        Assert.Equal(1, (await GetOkAsync(tenantB, Policy(policy))).GetProperty("limit").GetInt64());
        Assert.Equal(5, (await GetOkAsync(member, Policy(policy))).GetProperty("limit").GetInt64());
        var key = NewName();
        Assert.True((await AcquireAsync(tenantB, policy, key)).GetProperty("allowed").GetBoolean());
        Assert.False((await AcquireAsync(tenantB, policy, key)).GetProperty("allowed").GetBoolean());
        Assert.Equal(4, (await AcquireAsync(member, policy, key)).GetProperty("remaining").GetInt64());
    }

    [Fact]
    public async Task Acquire_UntilTheLimit_ThenRefusedWithRetryAfterMs()
    {
        var policy = NewName("p");
        using var admin = Client(ApiFactory.AdminKey);
        using var member = Client();
        await DefineAsync(admin, policy, """{"algorithm":"fixed-window","limit":2,"periodMs":60000}""");
        var key = NewName();

        var first = await AcquireAsync(member, policy, key);
        var second = await AcquireAsync(member, policy, key);
        var third = await AcquireAsync(member, policy, key);

        Assert.Equal((true, 2L, 1L, 0L), (first.GetProperty("allowed").GetBoolean(), first.GetProperty("limit").GetInt64(), first.GetProperty("remaining").GetInt64(), first.GetProperty("retryAfterMs").GetInt64()));
        Assert.True(first.GetProperty("resetAfterMs").GetInt64() is > 0 and <= 60000);
        Assert.False(first.TryGetProperty("leaseId", out _));
        Assert.Equal((true, 0L), (second.GetProperty("allowed").GetBoolean(), second.GetProperty("remaining").GetInt64()));
        Assert.False(third.GetProperty("allowed").GetBoolean());
        Assert.True(third.GetProperty("retryAfterMs").GetInt64() is > 0 and <= 60000, third.GetRawText());
        Assert.Equal(0, third.GetProperty("remaining").GetInt64());

        // Another key has its own allowance.
        Assert.True((await AcquireAsync(member, policy, NewName())).GetProperty("allowed").GetBoolean());
    }

    [Fact]
    public async Task Acquire_MorePermitsThanTheLimit_RefusedWithAReason()
    {
        var policy = NewName("p");
        using var admin = Client(ApiFactory.AdminKey);
        using var member = Client();
        await DefineAsync(admin, policy, """{"algorithm":"gcra","limit":3,"periodMs":1000}""");

        var refused = await AcquireAsync(member, policy, NewName(), """, "permits": 4, "priority": "critical" """);

        Assert.False(refused.GetProperty("allowed").GetBoolean());
        Assert.Equal(-1, refused.GetProperty("retryAfterMs").GetInt64());
        Assert.False(string.IsNullOrEmpty(refused.GetProperty("reason").GetString()));
    }

    [Fact]
    public async Task Acquire_NearTheLimit_NormalRefused_CriticalAdmittedFromTheReserve()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?> { ["Coordination:RateLimiting:CriticalReserve"] = "0.2" });
        using var admin = api.CreateApiClient(ApiFactory.AdminKey);
        using var member = api.CreateApiClient();
        var policy = NewName("p");
        var key = NewName();
        await DefineAsync(admin, policy, """{"algorithm":"fixed-window","limit":10,"periodMs":60000}""");

        var normal = await AcquireAsync(member, policy, key, """, "permits": 8, "priority": "normal" """);
        var shed = await AcquireAsync(member, policy, key, """, "priority": "normal" """);
        var critical = await AcquireAsync(member, policy, key, """, "permits": 2, "priority": "critical" """);

        Assert.Equal((true, 0L), (normal.GetProperty("allowed").GetBoolean(), normal.GetProperty("remaining").GetInt64()));
        Assert.False(shed.GetProperty("allowed").GetBoolean(), shed.GetRawText());
        Assert.True(shed.GetProperty("retryAfterMs").GetInt64() is > 0 and <= 60000, shed.GetRawText());
        Assert.Equal((true, 0L), (critical.GetProperty("allowed").GetBoolean(), critical.GetProperty("remaining").GetInt64()));
    }

    [Fact]
    public async Task Acquire_UnknownPolicy_404NotFound()
    {
        using var member = Client();
        var policy = NewName("p");

        using var response = await member.PostAsync(AcquireUri(policy), Json("""{"key":"k"}"""), Cancellation);

        var problem = await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        Assert.Equal(policy, problem.GetProperty("policy").GetString());
        using var release = await member.DeleteAsync(Lease(policy, "some-lease"), Cancellation);
        await AssertProblemAsync(release, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Concurrency_LeaseIdReleasesTheSlot_SecondReleaseIs404()
    {
        var policy = NewName("p");
        using var admin = Client(ApiFactory.AdminKey);
        using var member = Client();
        await DefineAsync(admin, policy, """{"algorithm":"concurrency","limit":1,"periodMs":60000}""");
        var key = NewName();

        var held = await AcquireAsync(member, policy, key);
        var leaseId = held.GetProperty("leaseId").GetString()!;
        var refused = await AcquireAsync(member, policy, key);
        Assert.False(refused.GetProperty("allowed").GetBoolean());
        Assert.False(refused.TryGetProperty("leaseId", out _));

        using (var released = await member.DeleteAsync(Lease(policy, leaseId), Cancellation))
        {
            await AssertStatusAsync(released, HttpStatusCode.NoContent);
        }

        using (var again = await member.DeleteAsync(Lease(policy, leaseId), Cancellation))
        {
            await AssertProblemAsync(again, HttpStatusCode.NotFound, "not-found");
        }

        var next = await AcquireAsync(member, policy, key);
        Assert.True(next.GetProperty("allowed").GetBoolean());
        Assert.NotEqual(leaseId, next.GetProperty("leaseId").GetString());
    }

    [Theory]
    [InlineData("""{"algorithm":"leaky-bucket","limit":1,"periodMs":1000}""", "algorithm")]
    [InlineData("""{"limit":1,"periodMs":1000}""", "algorithm")]
    [InlineData("""{"algorithm":"fixed-window","limit":0,"periodMs":1000}""", "limit")]
    [InlineData("""{"algorithm":"fixed-window","periodMs":1000}""", "limit")]
    [InlineData("""{"algorithm":"fixed-window","limit":1,"periodMs":0}""", "periodMs")]
    [InlineData("""{"algorithm":"fixed-window","limit":1,"periodMs":2592000001}""", "periodMs")]
    [InlineData("""{"algorithm":"fixed-window","limit":1}""", "periodMs")]
    [InlineData("""{"algorithm":"token-bucket","limit":1,"periodMs":1000,"burst":0}""", "burst")]
    [InlineData("""{"algorithm":"fixed-window","limit":"1","periodMs":1000}""", "limit")]
    public async Task SetPolicy_InvalidField_400NamingIt(string body, string field)
    {
        using var admin = Client(ApiFactory.AdminKey);
        var policy = NewName("p");

        using var response = await admin.PutAsync(Policy(policy), Json(body), Cancellation);

        await AssertValidationProblemAsync(response, field);
        using var missing = await admin.GetAsync(Policy(policy), Cancellation);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task SetPolicyOrOverride_InvalidNames_400NamingThem()
    {
        using var admin = Client(ApiFactory.AdminKey);
        const string body = """{"algorithm":"fixed-window","limit":1,"periodMs":1000}""";

        using (var badPolicy = await admin.PutAsync(new Uri("/v1/ratelimit/policies/has%20space", UriKind.Relative), Json(body), Cancellation))
        {
            await AssertValidationProblemAsync(badPolicy, "policy");
        }

        using (var badTenant = await admin.PutAsync(Override(NewName("p"), "tenant:b"), Json(body), Cancellation))
        {
            await AssertValidationProblemAsync(badTenant, "tenant");
        }
    }

    [Theory]
    [InlineData("""{"permits":1}""", "key")]
    [InlineData("""{"key":""}""", "key")]
    [InlineData("""{"key":"a\u0001b"}""", "key")]
    [InlineData("""{"key":"k","permits":0}""", "permits")]
    [InlineData("""{"key":"k","permits":2147483648}""", "permits")]
    [InlineData("""{"key":"k","priority":"urgent"}""", "priority")]
    public async Task Acquire_InvalidField_400NamingIt(string body, string field)
    {
        using var member = Client();

        using var response = await member.PostAsync(AcquireUri("api-requests"), Json(body), Cancellation);

        await AssertValidationProblemAsync(response, field);
    }

    [Fact]
    public async Task AcquireLevels_TenantLevelFull_RefusedWithItsPosition_UserLevelUncharged()
    {
        var tenantPolicy = NewName("p");
        var userPolicy = NewName("p");
        using var admin = Client(ApiFactory.AdminKey);
        using var member = Client();
        await DefineAsync(admin, tenantPolicy, """{"algorithm":"fixed-window","limit":3,"periodMs":60000}""");
        await DefineAsync(admin, userPolicy, """{"algorithm":"token-bucket","limit":2,"periodMs":60000}""");
        var (alice, bob) = (NewName("alice"), NewName("bob"));

        var first = await AcquireLevelsAsync(member, [(tenantPolicy, "all"), (userPolicy, alice)]);
        var second = await AcquireLevelsAsync(member, [(tenantPolicy, "all"), (userPolicy, alice)]);
        var aliceOverHerOwn = await AcquireLevelsAsync(member, [(tenantPolicy, "all"), (userPolicy, alice)]);
        var bobTakesTheLast = await AcquireLevelsAsync(member, [(tenantPolicy, "all"), (userPolicy, bob)]);
        var bobRefusedByTheTenant = await AcquireLevelsAsync(member, [(tenantPolicy, "all"), (userPolicy, bob)]);

        Assert.True(first.GetProperty("allowed").GetBoolean(), first.GetRawText());
        Assert.False(first.TryGetProperty("refusedLevel", out _));
        Assert.Equal(0, first.GetProperty("retryAfterMs").GetInt64());
        Assert.Equal((2L, 1L), (first.GetProperty("levels")[0].GetProperty("remaining").GetInt64(), first.GetProperty("levels")[1].GetProperty("remaining").GetInt64()));
        Assert.True(second.GetProperty("allowed").GetBoolean());
        Assert.False(aliceOverHerOwn.GetProperty("allowed").GetBoolean());
        Assert.Equal(1, aliceOverHerOwn.GetProperty("refusedLevel").GetInt32());
        Assert.True(aliceOverHerOwn.GetProperty("levels")[0].GetProperty("allowed").GetBoolean(), "the tenant level had room");
        Assert.True(aliceOverHerOwn.GetProperty("retryAfterMs").GetInt64() > 0);
        Assert.True(bobTakesTheLast.GetProperty("allowed").GetBoolean(), "alice's refusal charged no tenant permit: " + bobTakesTheLast.GetRawText());
        Assert.Equal(0, bobTakesTheLast.GetProperty("levels")[0].GetProperty("remaining").GetInt64());
        Assert.False(bobRefusedByTheTenant.GetProperty("allowed").GetBoolean());
        Assert.Equal(0, bobRefusedByTheTenant.GetProperty("refusedLevel").GetInt32());
        Assert.Equal(1, bobRefusedByTheTenant.GetProperty("levels")[1].GetProperty("remaining").GetInt64());
    }

    [Fact]
    public async Task AcquireLevels_UnknownPolicy404_ConcurrencyLevel400()
    {
        var known = NewName("p");
        var leases = NewName("p");
        var unknown = NewName("p");
        using var admin = Client(ApiFactory.AdminKey);
        using var member = Client();
        await DefineAsync(admin, known, """{"algorithm":"fixed-window","limit":3,"periodMs":60000}""");
        await DefineAsync(admin, leases, """{"algorithm":"concurrency","limit":3,"periodMs":60000}""");

        using (var missing = await member.PostAsync(AcquireLevelsUri, Json(LevelsBody([(known, "all"), (unknown, "u")])), Cancellation))
        {
            var problem = await AssertProblemAsync(missing, HttpStatusCode.NotFound, "not-found");
            Assert.Equal(unknown, problem.GetProperty("policy").GetString());
        }

        using (var concurrency = await member.PostAsync(AcquireLevelsUri, Json(LevelsBody([(known, "all"), (leases, "u")])), Cancellation))
        {
            await AssertValidationProblemAsync(concurrency, "levels");
        }

        var afterRefusals = await AcquireLevelsAsync(member, [(known, "all")]);
        Assert.Equal(2, afterRefusals.GetProperty("levels")[0].GetProperty("remaining").GetInt64());
    }

    [Theory]
    [InlineData("""{"permits":1}""", "levels")]
    [InlineData("""{"levels":[]}""", "levels")]
    [InlineData("""{"levels":[{"policy":"a","key":"1"},{"policy":"a","key":"2"},{"policy":"a","key":"3"},{"policy":"a","key":"4"},{"policy":"a","key":"5"},{"policy":"a","key":"6"},{"policy":"a","key":"7"},{"policy":"a","key":"8"},{"policy":"a","key":"9"}]}""", "levels")]
    [InlineData("""{"levels":[{"policy":"a","key":"k"},{"policy":"a","key":"k"}]}""", "levels")]
    [InlineData("""{"levels":[{"policy":"a","key":"k"},null]}""", "levels[1].policy")]
    [InlineData("""{"levels":[{"policy":"has space","key":"k"}]}""", "levels[0].policy")]
    [InlineData("""{"levels":[{"policy":"a"}]}""", "levels[0].key")]
    [InlineData("""{"levels":[{"policy":"a","key":"k"}],"permits":0}""", "permits")]
    [InlineData("""{"levels":[{"policy":"a","key":"k"}],"priority":"urgent"}""", "priority")]
    public async Task AcquireLevels_InvalidField_400NamingIt(string body, string field)
    {
        using var member = Client();

        using var response = await member.PostAsync(AcquireLevelsUri, Json(body), Cancellation);

        await AssertValidationProblemAsync(response, field);
    }

    private static Uri Policy(string policy) => new($"/v1/ratelimit/policies/{Uri.EscapeDataString(policy)}", UriKind.Relative);

    private static Uri Override(string policy, string tenant) =>
        new($"/v1/ratelimit/policies/{Uri.EscapeDataString(policy)}/tenants/{Uri.EscapeDataString(tenant)}", UriKind.Relative);

    private static Uri AcquireUri(string policy) => new($"/v1/ratelimit/{Uri.EscapeDataString(policy)}/acquire", UriKind.Relative);

    private static Uri AcquireLevelsUri => new("/v1/ratelimit/acquire", UriKind.Relative);

    private static Uri Lease(string policy, string leaseId) =>
        new($"/v1/ratelimit/{Uri.EscapeDataString(policy)}/leases/{Uri.EscapeDataString(leaseId)}", UriKind.Relative);

    private static Task DefineAsync(HttpClient admin, string policy, string body) => SendExpectingAsync(admin, HttpMethod.Put, Policy(policy), body);

    private static async Task<JsonElement> AcquireAsync(HttpClient client, string policy, string key, string extraFields = "")
    {
        using var response = await client.PostAsync(AcquireUri(policy), Json($$"""{"key":{{JsonSerializer.Serialize(key)}}{{extraFields}}}"""), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return await ReadJsonAsync(response);
    }

    private static string LevelsBody((string Policy, string Key)[] levels) =>
        JsonSerializer.Serialize(new { levels = levels.Select(level => new { policy = level.Policy, key = level.Key }) });

    private static async Task<JsonElement> AcquireLevelsAsync(HttpClient client, (string Policy, string Key)[] levels)
    {
        using var response = await client.PostAsync(AcquireLevelsUri, Json(LevelsBody(levels)), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return await ReadJsonAsync(response);
    }
}
