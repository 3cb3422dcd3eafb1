using System.Net;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Security;

/// <summary>
/// The hostile sweep over the session and rate-limit endpoints (issue 17), as <see cref="HostileSweepTests"/> does for
/// key/value, locks and cache: broken authentication, broken names, wrong types and out-of-range numbers, oversized
/// data, and another tenant's ids. Each must answer the right 4xx (never a 5xx, never a 2xx where refused), and a
/// read-back shows tenant A's session, policy and lease as they were. Violations are collected per case.
/// </summary>
public sealed class HostileSweepSessionsAndRateLimitsTests(ApiFixture fixture) : ApiTest(fixture)
{
    public static readonly string[] Endpoints =
    [
        "session-create", "session-get", "session-patch", "session-delete", "session-rotate", "user-list", "user-revoke",
        "ratelimit-policy-get", "ratelimit-acquire", "ratelimit-acquire-levels", "ratelimit-lease-release",
    ];

    /// <summary>Tenant A's state: a session (user, version), a concurrency policy of 2 leases with one held, all to be left untouched.</summary>
    private sealed record State(string SessionId, string UserId, long Version, string Policy, string LeaseKey, string LeaseId);

    private static async Task<State> ArrangeAsync(HttpClient member, HttpClient admin)
    {
        var userId = NewName("user");
        using var created = await SendAsync(member, HttpMethod.Post, Sessions(), $$$"""{"userId":"{{{userId}}}","data":{"name":"original"}}""");
        await AssertStatusAsync(created, HttpStatusCode.Created);
        var session = await ReadJsonAsync(created);
        var policy = NewName("p");
        await SendExpectingAsync(admin, HttpMethod.Put, RateLimitPolicy(policy), """{"algorithm":"concurrency","limit":2,"periodMs":600000}""");
        var leaseKey = NewName("lease");
        using var acquired = await SendAsync(member, HttpMethod.Post, Acquire(policy), $$"""{"key":"{{leaseKey}}"}""");
        await AssertStatusAsync(acquired, HttpStatusCode.OK);
        var lease = await ReadJsonAsync(acquired);
        Assert.True(lease.GetProperty("allowed").GetBoolean());
        return new State(session.GetProperty("id").GetString()!, userId, session.GetProperty("version").GetInt64(), policy, leaseKey, lease.GetProperty("leaseId").GetString()!);
    }

    private static HttpRequestMessage RequestFor(string endpoint, State state, string query = "") => endpoint switch
    {
        "session-create" => new(HttpMethod.Post, HostileSweepTests.With(Sessions(), query)) { Content = Json($$$"""{"userId":"{{{state.UserId}}}","data":{"name":"intruder"}}""") },
        "session-get" => new(HttpMethod.Get, HostileSweepTests.With(Sessions(state.SessionId), query)),
        "session-patch" => new(HttpMethod.Patch, HostileSweepTests.With(Sessions(state.SessionId), query)) { Content = Json("""{"data":{"name":"overwritten"}}""") },
        "session-delete" => new(HttpMethod.Delete, HostileSweepTests.With(Sessions(state.SessionId), query)),
        "session-rotate" => new(HttpMethod.Post, HostileSweepTests.With(Rotate(state.SessionId), query)),
        "user-list" => new(HttpMethod.Get, HostileSweepTests.With(UserSessions(state.UserId), query)),
        "user-revoke" => new(HttpMethod.Delete, HostileSweepTests.With(UserSessions(state.UserId), query)),
        "ratelimit-policy-get" => new(HttpMethod.Get, HostileSweepTests.With(RateLimitPolicy(state.Policy), query)),
        "ratelimit-acquire" => new(HttpMethod.Post, HostileSweepTests.With(Acquire(state.Policy), query)) { Content = Json($$"""{"key":"{{state.LeaseKey}}"}""") },
        "ratelimit-acquire-levels" => new(HttpMethod.Post, HostileSweepTests.With(AcquireLevels, query)) { Content = Json($$"""{"levels":[{"policy":"{{state.Policy}}","key":"{{state.LeaseKey}}"}]}""") },
        "ratelimit-lease-release" => new(HttpMethod.Delete, HostileSweepTests.With(Lease(state.Policy, state.LeaseId), query)),
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint), endpoint, null),
    };

    public static TheoryData<string, string> AuthCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var endpoint in Endpoints)
        {
            foreach (var auth in new[] { "none", "empty", "two-values-one-line", "query-apiKey", "forged" })
            {
                data.Add(endpoint, auth);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(AuthCases))]
    public async Task BrokenAuthentication_Answers401_AndChangesNothing(string endpoint, string auth)
    {
        using var member = Client();
        using var admin = Client(ApiFactory.AdminKey);
        using var anonymous = Client(apiKey: null);
        var state = await ArrangeAsync(member, admin);
        using var request = RequestFor(endpoint, state, auth == "query-apiKey" ? "?apiKey=" + ApiFactory.MemberKey : "");
        switch (auth)
        {
            case "empty":
                request.Headers.TryAddWithoutValidation("X-Api-Key", "");
                break;
            case "two-values-one-line":
                request.Headers.TryAddWithoutValidation("X-Api-Key", $"{ApiFactory.MemberKey}, {ApiFactory.MemberKey}");
                break;
            case "forged":
                request.Headers.TryAddWithoutValidation("X-Api-Key", ApiFactory.MemberKey[..^1] + (ApiFactory.MemberKey[^1] == 'x' ? 'y' : 'x'));
                break;
        }

        var violations = new List<string>();
        using (var response = await anonymous.SendAsync(request, Cancellation))
        {
            await HostileSweepTests.IsAsExpectedAsync(response, status => status == 401, "401", $"{request.Method} {request.RequestUri} ({auth})", violations);
        }

        await ReadBackUnchangedAsync(member, state, violations);
        HostileSweepTests.AssertNoViolations(violations);
    }

    public static TheoryData<string, string> BadNames()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in new[] { "session-id", "user-id", "create-user-id", "ratelimit-key", "levels-key", "policy", "lease-id" })
        {
            foreach (var label in new[] { "control-char", "newline", "del", "513-bytes", "171-three-byte-chars" })
            {
                data.Add(target, label);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(BadNames))]
    public async Task BrokenName_Answers4xx_AndChangesNothing(string target, string label)
    {
        using var member = Client();
        using var admin = Client(ApiFactory.AdminKey);
        var state = await ArrangeAsync(member, admin);
        var name = HostileSweepTests.BadName(label);
        var quoted = JsonSerializer.Serialize(name);
        var (method, uri, json) = target switch
        {
            "session-id" => (HttpMethod.Patch, Sessions(name), """{"data":{"name":"overwritten"}}"""),
            "user-id" => (HttpMethod.Delete, UserSessions(name), (string?)null),
            "create-user-id" => (HttpMethod.Post, Sessions(), $$"""{"userId":{{quoted}}}"""),
            "ratelimit-key" => (HttpMethod.Post, Acquire(state.Policy), $$"""{"key":{{quoted}}}"""),
            "levels-key" => (HttpMethod.Post, AcquireLevels, $$"""{"levels":[{"policy":"{{state.Policy}}","key":{{quoted}}}]}"""),
            "policy" => (HttpMethod.Post, Acquire(name), """{"key":"k"}"""),
            _ => (HttpMethod.Delete, Lease(state.Policy, name), null),
        };
        var violations = new List<string>();
        using (var response = await SendAsync(member, method, uri, json))
        {
            await HostileSweepTests.IsAsExpectedAsync(response, HostileSweepTests.IsClientError, "4xx", $"{method} {uri} ({label})", violations);
        }

        await ReadBackUnchangedAsync(member, state, violations);
        HostileSweepTests.AssertNoViolations(violations);
    }

    public static TheoryData<string, string> BadBodies() => new()
    {
        { "create", """{"userId":42}""" },
        { "create", """{"data":{}}""" },
        { "create", """{"userId":"u","data":[1,2]}""" },
        { "create", """{"userId":"u","data":"text"}""" },
        { "create", """{"userId":"u","idleTimeoutMs":0}""" },
        { "create", """{"userId":"u","idleTimeoutMs":-1}""" },
        { "create", """{"userId":"u","idleTimeoutMs":"1000"}""" },
        { "create", """{"userId":"u","absoluteTimeoutMs":2592000001}""" },
        { "create", """{"userId":"u","absoluteTimeoutMs":9223372036854775808}""" },
        { "create", """{"userId":"u",""" },
        { "patch", """{"data":[1]}""" },
        { "patch", """{"data":"x"}""" },
        { "patch", """{}""" },
        { "patch", """not json""" },
        { "acquire", """{"key":"k","permits":-1}""" },
        { "acquire", """{"key":"k","permits":1.5}""" },
        { "acquire", """{"key":"k","permits":"2"}""" },
        { "acquire", """{"key":"k","priority":7}""" },
        { "acquire", """{"key":["k"]}""" },
        { "levels", """{"levels":{"policy":"p","key":"k"}}""" },
        { "levels", """{"levels":[{"policy":7,"key":"k"}]}""" },
        { "levels", """{"levels":"p"}""" },
        { "set-policy", """{"algorithm":"fixed-window","limit":-5,"periodMs":1000}""" },
        { "set-policy", """{"algorithm":"fixed-window","limit":1,"periodMs":-1}""" },
        { "set-policy", """{"algorithm":"fixed-window","limit":9223372036854775808,"periodMs":1000}""" },
        { "set-policy", """{"algorithm":"concurrency","limit":"all","periodMs":1000}""" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task WrongTypesAndRanges_Answer400_AndChangeNothing(string target, string json)
    {
        using var member = Client();
        using var admin = Client(ApiFactory.AdminKey);
        var state = await ArrangeAsync(member, admin);
        var (client, method, uri) = target switch
        {
            "create" => (member, HttpMethod.Post, Sessions()),
            "patch" => (member, HttpMethod.Patch, Sessions(state.SessionId)),
            "acquire" => (member, HttpMethod.Post, Acquire(state.Policy)),
            "levels" => (member, HttpMethod.Post, AcquireLevels),
            _ => (admin, HttpMethod.Put, RateLimitPolicy(state.Policy)),
        };
        var violations = new List<string>();
        using (var response = await SendAsync(client, method, uri, json))
        {
            await HostileSweepTests.IsAsExpectedAsync(response, status => status == 400, "400", $"{method} {uri} {json}", violations);
        }

        await ReadBackUnchangedAsync(member, state, violations);
        HostileSweepTests.AssertNoViolations(violations);
    }

    [Fact]
    public async Task OversizedSessionData_Answers4xx_AndKeepsTheSession()
    {
        using var member = Client();
        using var admin = Client(ApiFactory.AdminKey);
        var state = await ArrangeAsync(member, admin);
        // Above the session's MaxDataBytes (64 KiB) but within the request body limit (6 × that): the API reads the
        // body and refuses the data; a body over the limit is cut off while it is sent, which HostileSweepTests checks
        // with raw requests.
        var big = new string('x', 100 * 1024);
        var violations = new List<string>();
        foreach (var (method, uri, json) in new[]
        {
            (HttpMethod.Post, Sessions(), $$$"""{"userId":"{{{state.UserId}}}","data":{"blob":"{{{big}}}"}}"""),
            (HttpMethod.Patch, Sessions(state.SessionId), $$$"""{"data":{"blob":"{{{big}}}"}}"""),
            (HttpMethod.Patch, Sessions(state.SessionId), $$"""{"data":{{new string('[', 65)}}{{new string(']', 65)}}}"""),
        })
        {
            using var response = await SendAsync(member, method, uri, json);
            await HostileSweepTests.IsAsExpectedAsync(response, HostileSweepTests.IsClientError, "4xx", $"{method} {uri} ({json.Length} bytes)", violations);
        }

        await ReadBackUnchangedAsync(member, state, violations);
        HostileSweepTests.AssertNoViolations(violations);
    }

    [Theory]
    [MemberData(nameof(EndpointCases))]
    public async Task OtherTenant_SeesAndChangesNothingOfTenantA(string endpoint)
    {
        using var member = Client();
        using var admin = Client(ApiFactory.AdminKey);
        using var other = Client(ApiFactory.OtherTenantKey);
        var state = await ArrangeAsync(member, admin);
        using var request = RequestFor(endpoint, state);
        var expected = endpoint switch
        {
            // Tenant B's own namespace: creating a session for a user of the same name, listing or revoking that
            // user's sessions there, reading the platform-wide policy and taking B's own lease are B's business; a
            // delete answers 204 whether or not B had such a session (the contract's idempotent delete). A
            // concurrency policy is never a level of an all-or-nothing acquisition, whoever asks.
            "session-create" => new[] { 201 },
            "user-list" or "ratelimit-policy-get" or "ratelimit-acquire" or "user-revoke" => [200],
            "session-delete" => [204],
            "ratelimit-acquire-levels" => [400],
            _ => [404],
        };
        var violations = new List<string>();
        using (var response = await other.SendAsync(request, Cancellation))
        {
            var text = await response.Content.ReadAsStringAsync(Cancellation);
            if (!expected.Contains((int)response.StatusCode))
            {
                violations.Add($"tenant B {request.Method} {request.RequestUri}: expected {string.Join(" or ", expected)}, got {(int)response.StatusCode}: {text}");
            }

            if (text.Contains("original", StringComparison.Ordinal) || text.Contains(state.SessionId, StringComparison.Ordinal) || text.Contains(state.LeaseId, StringComparison.Ordinal))
            {
                violations.Add($"tenant B {request.Method} {request.RequestUri}: the answer shows tenant A's data: {text}");
            }

            if (endpoint == "user-list" && response.IsSuccessStatusCode && JsonDocument.Parse(text).RootElement.GetArrayLength() != 0)
            {
                violations.Add($"tenant B lists sessions of A's user: {text}");
            }

            if (endpoint == "user-revoke" && response.IsSuccessStatusCode && JsonDocument.Parse(text).RootElement.GetProperty("revoked").GetInt32() != 0)
            {
                violations.Add($"tenant B revoked sessions of A's user: {text}");
            }
        }

        await ReadBackUnchangedAsync(member, state, violations);
        HostileSweepTests.AssertNoViolations(violations);
    }

    public static TheoryData<string> EndpointCases() => new(Endpoints);

    /// <summary>Tenant A's session (same version, same data), the policy and the held lease are as arranged.</summary>
    private static async Task ReadBackUnchangedAsync(HttpClient member, State state, List<string> violations)
    {
        using (var get = await member.GetAsync(Sessions(state.SessionId), Cancellation))
        {
            var text = await get.Content.ReadAsStringAsync(Cancellation);
            if (get.StatusCode != HttpStatusCode.OK)
            {
                violations.Add($"read-back GET session: expected 200, got {(int)get.StatusCode}: {text}");
            }
            else
            {
                var session = JsonDocument.Parse(text).RootElement;
                if (session.GetProperty("version").GetInt64() != state.Version || session.GetProperty("data").GetProperty("name").GetString() != "original"
                    || session.GetProperty("data").EnumerateObject().Count() != 1)
                {
                    violations.Add($"read-back GET session: expected version {state.Version} with data {{name: original}}, got {text}");
                }
            }
        }

        using (var list = await member.GetAsync(UserSessions(state.UserId), Cancellation))
        {
            var text = await list.Content.ReadAsStringAsync(Cancellation);
            if (list.StatusCode != HttpStatusCode.OK || JsonDocument.Parse(text).RootElement.GetArrayLength() != 1)
            {
                violations.Add($"read-back GET user sessions: expected exactly A's one session, got {(int)list.StatusCode}: {text}");
            }
        }

        using (var policy = await member.GetAsync(RateLimitPolicy(state.Policy), Cancellation))
        {
            var text = await policy.Content.ReadAsStringAsync(Cancellation);
            if (policy.StatusCode != HttpStatusCode.OK || JsonDocument.Parse(text).RootElement.GetProperty("limit").GetInt64() != 2)
            {
                violations.Add($"read-back GET policy: expected the concurrency policy of limit 2, got {(int)policy.StatusCode}: {text}");
            }
        }

        // One lease of two is held: one more is granted (and given back), a second is refused, and A's lease still releases.
        using var probe = await SendAsync(member, HttpMethod.Post, Acquire(state.Policy), $$"""{"key":"{{state.LeaseKey}}"}""");
        var probeText = await probe.Content.ReadAsStringAsync(Cancellation);
        if (probe.StatusCode != HttpStatusCode.OK || !JsonDocument.Parse(probeText).RootElement.GetProperty("allowed").GetBoolean())
        {
            violations.Add($"read-back lease: expected the second of two leases granted, got {(int)probe.StatusCode}: {probeText}");
            return;
        }

        using var full = await SendAsync(member, HttpMethod.Post, Acquire(state.Policy), $$"""{"key":"{{state.LeaseKey}}"}""");
        var fullText = await full.Content.ReadAsStringAsync(Cancellation);
        if (full.StatusCode != HttpStatusCode.OK || JsonDocument.Parse(fullText).RootElement.GetProperty("allowed").GetBoolean())
        {
            violations.Add($"read-back lease: expected a third lease refused (A's first still held), got {(int)full.StatusCode}: {fullText}");
        }

        using var release = await member.DeleteAsync(Lease(state.Policy, JsonDocument.Parse(probeText).RootElement.GetProperty("leaseId").GetString()!), Cancellation);
        using var releaseOwn = await member.DeleteAsync(Lease(state.Policy, state.LeaseId), Cancellation);
        if (releaseOwn.StatusCode != HttpStatusCode.NoContent)
        {
            violations.Add($"read-back lease: A's own lease should release with 204, got {(int)releaseOwn.StatusCode}");
        }
    }

    private static Uri Sessions(string? id = null) =>
        new(id is null ? "/v1/sessions" : $"/v1/sessions/{Uri.EscapeDataString(id)}", UriKind.Relative);

    private static Uri Rotate(string id) => new($"/v1/sessions/{Uri.EscapeDataString(id)}/rotate", UriKind.Relative);

    private static Uri UserSessions(string userId) => new($"/v1/users/{Uri.EscapeDataString(userId)}/sessions", UriKind.Relative);

    private static Uri RateLimitPolicy(string policy) => new($"/v1/ratelimit/policies/{Uri.EscapeDataString(policy)}", UriKind.Relative);

    private static Uri Acquire(string policy) => new($"/v1/ratelimit/{Uri.EscapeDataString(policy)}/acquire", UriKind.Relative);

    private static Uri AcquireLevels => new("/v1/ratelimit/acquire", UriKind.Relative);

    private static Uri Lease(string policy, string leaseId) =>
        new($"/v1/ratelimit/{Uri.EscapeDataString(policy)}/leases/{Uri.EscapeDataString(leaseId)}", UriKind.Relative);
}
