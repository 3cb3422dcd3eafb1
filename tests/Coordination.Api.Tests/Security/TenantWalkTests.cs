using System.Net;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Security;

/// <summary>
/// Tenant isolation, walked across every endpoint: tenant B creates a key, a lock, a cache entry, a session and rate
/// limit state; tenant A then calls every endpoint with B's names (and B's lock token, session id and lease id) and
/// sees nothing of B: 404s, empty lists, zero counts, its own independent state; reading back with B's key shows B's
/// data unchanged. The tenant comes from the API key only, and the library builds every Redis key under it.
/// </summary>
public sealed class TenantWalkTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task TenantA_WalksEveryEndpointWithTenantBsNames_SeesNothingOfB_AndBsDataIsUnchanged()
    {
        using var a = Client();
        using var b = Client(ApiFactory.OtherTenantKey);
        using var admin = Client(ApiFactory.AdminKey);
        var key = NewName("shared");
        var tag = NewName("tag");
        var userId = NewName("user");
        var windowPolicy = NewName("p");
        var leasePolicy = NewName("p");

        // Tenant B's state.
        await SendExpectingAsync(b, HttpMethod.Put, Kv(key), """{"value":"b-value"}""");
        using var lockResponse = await b.PostAsync(Lock(key), Json("""{"ttlMs":60000}"""), Cancellation);
        await AssertStatusAsync(lockResponse, HttpStatusCode.OK);
        var bLock = await ReadJsonAsync(lockResponse);
        var bToken = bLock.GetProperty("token").GetString()!;
        await SendExpectingAsync(b, HttpMethod.Put, Cache(key), $$"""{"value":"b-cached","tags":["{{tag}}"]}""");
        using var sessionResponse = await b.PostAsync(new Uri("/v1/sessions", UriKind.Relative), Json($$$"""{"userId":"{{{userId}}}","data":{"owner":"b"}}"""), Cancellation);
        await AssertStatusAsync(sessionResponse, HttpStatusCode.Created);
        var bSession = await ReadJsonAsync(sessionResponse);
        var sessionId = bSession.GetProperty("id").GetString()!;
        await SendExpectingAsync(admin, HttpMethod.Put, RateLimitPolicy(windowPolicy), """{"algorithm":"fixed-window","limit":3,"periodMs":60000}""");
        await SendExpectingAsync(admin, HttpMethod.Put, RateLimitOverride(windowPolicy, "tenant-b"), """{"algorithm":"fixed-window","limit":1,"periodMs":60000}""");
        await SendExpectingAsync(admin, HttpMethod.Put, RateLimitPolicy(leasePolicy), """{"algorithm":"concurrency","limit":1,"periodMs":60000}""");
        Assert.True((await AcquireAsync(b, windowPolicy, key)).GetProperty("allowed").GetBoolean());
        var bLease = await AcquireAsync(b, leasePolicy, key);
        var bLeaseId = bLease.GetProperty("leaseId").GetString()!;

        // Key/value: absent for A; A's delete and write touch A's own key only.
        await AssertNotFoundAsync(await a.GetAsync(Kv(key), Cancellation));
        await AssertStatusAsync(await a.DeleteAsync(Kv(key), Cancellation), HttpStatusCode.NoContent);
        await SendExpectingAsync(a, HttpMethod.Put, Kv(key), """{"value":"a-value"}""");

        // Locks: free for A (404), B's token holds nothing of A's, and A takes its own lock of the same name.
        await AssertNotFoundAsync(await a.GetAsync(Lock(key), Cancellation));
        await AssertProblemAsync(await a.PostAsync(Extend(key), Json($$"""{"token":"{{bToken}}","ttlMs":1000}"""), Cancellation), HttpStatusCode.Conflict, "lock-not-held");
        await AssertProblemAsync(await a.DeleteAsync(Lock(key, bToken), Cancellation), HttpStatusCode.Conflict, "lock-not-held");
        using (var aLock = await a.PostAsync(Lock(key), Json("""{"ttlMs":60000}"""), Cancellation))
        {
            await AssertStatusAsync(aLock, HttpStatusCode.OK);
        }

        // Cache: absent for A; A's invalidations of B's tag and key prefix reach A's entries only (B's entry is read back below).
        await AssertNotFoundAsync(await a.GetAsync(Cache(key), Cancellation));
        await AssertStatusAsync(await a.DeleteAsync(Cache(key), Cancellation), HttpStatusCode.NoContent);
        await PostOkAsync(a, Invalidate, $$"""{"tags":["{{tag}}"]}""");
        await PostOkAsync(a, Invalidate, $$"""{"prefix":"{{key}}"}""");

        // Sessions: B's id is unknown to A, B's user has no sessions for A.
        var session = new Uri($"/v1/sessions/{sessionId}", UriKind.Relative);
        await AssertNotFoundAsync(await a.GetAsync(session, Cancellation));
        await AssertNotFoundAsync(await a.PatchAsync(session, Json("""{"data":{"owner":"a"}}"""), Cancellation));
        await AssertNotFoundAsync(await a.PostAsync(new Uri($"/v1/sessions/{sessionId}/rotate", UriKind.Relative), null, Cancellation));
        await AssertStatusAsync(await a.DeleteAsync(session, Cancellation), HttpStatusCode.NoContent);
        var userSessions = new Uri($"/v1/users/{userId}/sessions", UriKind.Relative);
        Assert.Equal(0, (await GetOkAsync(a, userSessions)).GetArrayLength());
        using (var revoked = await a.DeleteAsync(userSessions, Cancellation))
        {
            await AssertStatusAsync(revoked, HttpStatusCode.OK);
            Assert.Equal(0, (await ReadJsonAsync(revoked)).GetProperty("revoked").GetInt64());
        }

        // Rate limits: A sees the policy without B's override, counts on its own, and cannot end B's lease.
        Assert.Equal(3, (await GetOkAsync(a, RateLimitPolicy(windowPolicy))).GetProperty("limit").GetInt64());
        var aWindow = await AcquireAsync(a, windowPolicy, key);
        Assert.Equal((true, 3L, 2L), (aWindow.GetProperty("allowed").GetBoolean(), aWindow.GetProperty("limit").GetInt64(), aWindow.GetProperty("remaining").GetInt64()));
        await AssertNotFoundAsync(await a.DeleteAsync(RateLimitLease(leasePolicy, bLeaseId), Cancellation));
        var aLease = await AcquireAsync(a, leasePolicy, key);
        Assert.True(aLease.GetProperty("allowed").GetBoolean(), "A's concurrency slots are its own.");

        // B reads everything back unchanged.
        Assert.Equal("b-value", (await GetOkAsync(b, Kv(key))).GetProperty("value").GetString());
        var lockInfo = await GetOkAsync(b, Lock(key));
        Assert.Equal(bLock.GetProperty("fencingToken").GetInt64(), lockInfo.GetProperty("fencingToken").GetInt64());
        using (var extended = await b.PostAsync(Extend(key), Json($$"""{"token":"{{bToken}}","ttlMs":60000}"""), Cancellation))
        {
            await AssertStatusAsync(extended, HttpStatusCode.OK);
        }

        Assert.Equal("b-cached", (await GetOkAsync(b, Cache(key))).GetProperty("value").GetString());
        var sessionBack = await GetOkAsync(b, session);
        Assert.Equal(("b", bSession.GetProperty("version").GetInt64()), (sessionBack.GetProperty("data").GetProperty("owner").GetString(), sessionBack.GetProperty("version").GetInt64()));
        Assert.Equal(1, (await GetOkAsync(b, userSessions)).GetArrayLength());
        Assert.Equal(1, (await GetOkAsync(b, RateLimitPolicy(windowPolicy))).GetProperty("limit").GetInt64());
        Assert.False((await AcquireAsync(b, windowPolicy, key)).GetProperty("allowed").GetBoolean());
        Assert.False((await AcquireAsync(b, leasePolicy, key)).GetProperty("allowed").GetBoolean());
        await AssertStatusAsync(await b.DeleteAsync(RateLimitLease(leasePolicy, bLeaseId), Cancellation), HttpStatusCode.NoContent);
    }

    private static Uri RateLimitPolicy(string policy) => new($"/v1/ratelimit/policies/{policy}", UriKind.Relative);

    private static Uri RateLimitOverride(string policy, string tenant) => new($"/v1/ratelimit/policies/{policy}/tenants/{tenant}", UriKind.Relative);

    private static Uri RateLimitLease(string policy, string leaseId) => new($"/v1/ratelimit/{policy}/leases/{Uri.EscapeDataString(leaseId)}", UriKind.Relative);

    private static async Task AssertNotFoundAsync(HttpResponseMessage response)
    {
        using (response)
        {
            await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
        }
    }

    private static async Task<JsonElement> PostOkAsync(HttpClient client, Uri uri, string json)
    {
        using var response = await client.PostAsync(uri, Json(json), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return await ReadJsonAsync(response);
    }

    private static async Task<JsonElement> AcquireAsync(HttpClient client, string policy, string key)
    {
        using var response = await client.PostAsync(new Uri($"/v1/ratelimit/{policy}/acquire", UriKind.Relative), Json($$"""{"key":{{JsonSerializer.Serialize(key)}}}"""), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return await ReadJsonAsync(response);
    }
}
