using System.Net;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Problems;

/// <summary>
/// A tenant at its key quota (<c>Coordination:Quotas:MaxKeysPerTenant</c>) gets 429 <c>quota-exceeded</c> for a
/// <c>PUT /v1/kv</c> that would create a key, not a 500; other tenants keep writing (its own API instance). The same
/// for a tenant at its lock-name quota (<c>Coordination:Quotas:MaxLockNamesPerTenant</c>) and
/// <c>POST /v1/locks/{name}</c> of a fresh name.
/// </summary>
public sealed class QuotaExceededTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const int Quota = 3;

    [Fact]
    public async Task SetValue_PastTheKeyQuota_Answers429QuotaExceeded_OtherTenantUnaffected()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:Quotas:MaxKeysPerTenant"] = Quota.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var tenantA = api.CreateApiClient();
        using var tenantB = api.CreateApiClient(ApiFactory.OtherTenantKey);
        var keys = Enumerable.Range(0, Quota).Select(i => NewName()).ToArray();
        foreach (var key in keys)
        {
            await SendExpectingAsync(tenantA, HttpMethod.Put, Kv(key), """{"value":1}""");
        }

        var refusedKey = NewName();
        using (var refused = await tenantA.PutAsync(Kv(refusedKey), Json("""{"value":2}"""), Cancellation))
        {
            var problem = await AssertProblemAsync(refused, (HttpStatusCode)429, "quota-exceeded");
            Assert.Equal(("keys", Quota), (problem.GetProperty("quota").GetString(), problem.GetProperty("limit").GetInt32()));
            Assert.Null(refused.Headers.RetryAfter);
        }

        using (var missing = await tenantA.GetAsync(Kv(refusedKey), Cancellation))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        // Overwriting is not creating; deleting frees room.
        await SendExpectingAsync(tenantA, HttpMethod.Put, Kv(keys[0]), """{"value":3,"ttlMs":60000}""");
        using (var deleted = await tenantA.DeleteAsync(Kv(keys[1]), Cancellation))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        await SendExpectingAsync(tenantA, HttpMethod.Put, Kv(refusedKey), """{"value":4}""");

        for (var i = 0; i < Quota; i++)
        {
            await SendExpectingAsync(tenantB, HttpMethod.Put, Kv(NewName()), """{"value":5}""");
        }
    }

    [Fact]
    public async Task AcquireLock_FreshNamePastTheLockNameQuota_Answers429QuotaExceeded_KnownNamesAndOtherTenantUnaffected()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:Quotas:MaxLockNamesPerTenant"] = Quota.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var tenantA = api.CreateApiClient();
        using var tenantB = api.CreateApiClient(ApiFactory.OtherTenantKey);
        var names = Enumerable.Range(0, Quota).Select(i => NewName("lock")).ToArray();
        foreach (var name in names)
        {
            await AcquireAndReleaseAsync(tenantA, name);
        }

        var refusedName = NewName("lock");
        using (var refused = await tenantA.PostAsync(Lock(refusedName), Json("""{"ttlMs":10000}"""), Cancellation))
        {
            var problem = await AssertProblemAsync(refused, (HttpStatusCode)429, "quota-exceeded");
            Assert.Equal(("lock-names", Quota), (problem.GetProperty("quota").GetString(), problem.GetProperty("limit").GetInt32()));
            Assert.Null(refused.Headers.RetryAfter);
        }

        using (var info = await tenantA.GetAsync(Lock(refusedName), Cancellation))
        {
            Assert.Equal(HttpStatusCode.NotFound, info.StatusCode);
        }

        // A name the tenant has is not new state; the other tenant's quota is its own.
        await AcquireAndReleaseAsync(tenantA, names[0]);
        for (var i = 0; i < Quota; i++)
        {
            await AcquireAndReleaseAsync(tenantB, NewName("lock"));
        }
    }

    [Fact]
    public async Task CreateSession_PastTheSessionQuota_Answers429QuotaExceeded_AndAfterADeleteCreatesAgain()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:Quotas:MaxSessionsPerTenant"] = Quota.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
        using var tenantA = api.CreateApiClient();
        using var tenantB = api.CreateApiClient(ApiFactory.OtherTenantKey);
        string? first = null;
        for (var i = 0; i < Quota; i++)
        {
            using var created = await tenantA.PostAsync("/v1/sessions", Json($$"""{"userId":"user-{{i}}"}"""), Cancellation);
            await AssertStatusAsync(created, HttpStatusCode.Created);
            first ??= created.Headers.Location!.OriginalString;
        }

        using (var refused = await tenantA.PostAsync("/v1/sessions", Json("""{"userId":"one-more"}"""), Cancellation))
        {
            var problem = await AssertProblemAsync(refused, (HttpStatusCode)429, "quota-exceeded");
            Assert.Equal(("sessions", Quota), (problem.GetProperty("quota").GetString(), problem.GetProperty("limit").GetInt32()));
        }

        using (var otherTenant = await tenantB.PostAsync("/v1/sessions", Json("""{"userId":"one-more"}"""), Cancellation))
        {
            await AssertStatusAsync(otherTenant, HttpStatusCode.Created);
        }

        using (var deleted = await tenantA.DeleteAsync(first, Cancellation))
        {
            await AssertStatusAsync(deleted, HttpStatusCode.NoContent);
        }

        using var again = await tenantA.PostAsync("/v1/sessions", Json("""{"userId":"one-more"}"""), Cancellation);
        await AssertStatusAsync(again, HttpStatusCode.Created);
    }

    private static async Task AcquireAndReleaseAsync(HttpClient client, string name)
    {
        using var acquired = await client.PostAsync(Lock(name), Json("""{"ttlMs":10000}"""), Cancellation);
        await AssertStatusAsync(acquired, HttpStatusCode.OK);
        using var body = System.Text.Json.JsonDocument.Parse(await acquired.Content.ReadAsStringAsync(Cancellation));
        var token = body.RootElement.GetProperty("token").GetString();
        using var released = await client.DeleteAsync(Lock(name, token), Cancellation);
        await AssertStatusAsync(released, HttpStatusCode.NoContent);
    }
}
