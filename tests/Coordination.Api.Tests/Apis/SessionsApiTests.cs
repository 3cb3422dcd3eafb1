using System.Net;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Apis;

/// <summary><c>/v1/sessions</c> and <c>/v1/users/{userId}/sessions</c> over HTTP, against the API on a real Redis.</summary>
public sealed class SessionsApiTests(ApiFixture fixture) : ApiTest(fixture)
{
    private static readonly Uri SessionsUri = new("/v1/sessions", UriKind.Relative);

    [Fact]
    public async Task CreateThenGet_AnswersTheSessionWithVersionAsETagAndLocation()
    {
        using var client = Client();
        var userId = NewName("user");

        using var created = await SendAsync(client, HttpMethod.Post, SessionsUri, $$$"""{"userId":"{{{userId}}}","data":{"cart":[1,2],"theme":"dark","none":null}}""");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var session = await ReadJsonAsync(created);
        var id = session.GetProperty("id").GetString()!;
        Assert.True(id.Length >= 22, id);
        Assert.All(id, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.', $"'{c}' is not URL-safe"));
        Assert.Equal($"/v1/sessions/{id}", created.Headers.Location?.OriginalString);
        Assert.Equal("\"1\"", created.Headers.ETag?.ToString());
        Assert.Equal(userId, session.GetProperty("userId").GetString());
        Assert.Equal(1, session.GetProperty("version").GetInt64());
        Assert.Equal("""[1,2]""", session.GetProperty("data").GetProperty("cart").GetRawText());
        Assert.Equal(JsonValueKind.Null, session.GetProperty("data").GetProperty("none").ValueKind);
        var expiresAt = session.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.True(expiresAt > session.GetProperty("createdAt").GetDateTimeOffset());

        using var read = await client.GetAsync(Session(id), Cancellation);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal("\"1\"", read.Headers.ETag?.ToString());
        var body = await ReadJsonAsync(read);
        Assert.Equal("dark", body.GetProperty("data").GetProperty("theme").GetString());
        Assert.True(body.GetProperty("expiresAt").GetDateTimeOffset() >= expiresAt, "A read must slide the idle expiry, never shorten it.");
    }

    [Fact]
    public async Task Patch_MergesRemovesAndHonoursIfMatch()
    {
        using var client = Client();
        var id = await CreateAsync(client, NewName("user"), """{"a":1,"b":2}""");

        using var merged = await SendAsync(client, HttpMethod.Patch, Session(id), """{"data":{"b":null,"c":"three"}}""");
        Assert.Equal(HttpStatusCode.OK, merged.StatusCode);
        var data = (await ReadJsonAsync(merged)).GetProperty("data");
        Assert.Equal(1, data.GetProperty("a").GetInt32());
        Assert.False(data.TryGetProperty("b", out _));
        Assert.Equal("three", data.GetProperty("c").GetString());
        Assert.Equal("\"2\"", merged.Headers.ETag?.ToString());

        using var stale = new HttpRequestMessage(HttpMethod.Patch, Session(id)) { Content = Json("""{"data":{"a":100}}""") };
        stale.Headers.TryAddWithoutValidation("If-Match", "\"1\"");
        using var refused = await client.SendAsync(stale, Cancellation);
        var problem = await AssertProblemAsync(refused, HttpStatusCode.PreconditionFailed, "version-conflict");
        Assert.Equal(2, problem.GetProperty("currentVersion").GetInt64());
        Assert.Equal(1, (await GetOkAsync(client, Session(id))).GetProperty("data").GetProperty("a").GetInt32());

        using var current = new HttpRequestMessage(HttpMethod.Patch, Session(id)) { Content = Json("""{"data":{"a":100}}""") };
        current.Headers.TryAddWithoutValidation("If-Match", "\"2\"");
        using var applied = await client.SendAsync(current, Cancellation);
        Assert.Equal(HttpStatusCode.OK, applied.StatusCode);
        Assert.Equal(100, (await ReadJsonAsync(applied)).GetProperty("data").GetProperty("a").GetInt32());

        using var garbage = new HttpRequestMessage(HttpMethod.Patch, Session(id)) { Content = Json("""{"data":{"a":1}}""") };
        garbage.Headers.TryAddWithoutValidation("If-Match", "W/\"x\"");
        using var badHeader = await client.SendAsync(garbage, Cancellation);
        await AssertValidationProblemAsync(badHeader, "If-Match");
    }

    [Fact]
    public async Task Rotate_NewIdServesTheSameDataAndTheOldIdIs404()
    {
        using var client = Client();
        var id = await CreateAsync(client, NewName("user"), """{"k":"v"}""");

        using var rotated = await SendAsync(client, HttpMethod.Post, new Uri($"/v1/sessions/{id}/rotate", UriKind.Relative), null);

        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        var newId = (await ReadJsonAsync(rotated)).GetProperty("id").GetString()!;
        Assert.NotEqual(id, newId);
        Assert.Equal("v", (await GetOkAsync(client, Session(newId))).GetProperty("data").GetProperty("k").GetString());
        using var old = await client.GetAsync(Session(id), Cancellation);
        await AssertProblemAsync(old, HttpStatusCode.NotFound, "not-found");
        using var again = await SendAsync(client, HttpMethod.Post, new Uri($"/v1/sessions/{id}/rotate", UriKind.Relative), null);
        await AssertProblemAsync(again, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Delete_Answers204ThenTheSessionIs404()
    {
        using var client = Client();
        var id = await CreateAsync(client, NewName("user"), "{}");

        using var deleted = await client.DeleteAsync(Session(id), Cancellation);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var read = await client.GetAsync(Session(id), Cancellation);
        await AssertProblemAsync(read, HttpStatusCode.NotFound, "not-found");
        using var patch = await SendAsync(client, HttpMethod.Patch, Session(id), """{"data":{"a":1}}""");
        await AssertProblemAsync(patch, HttpStatusCode.NotFound, "not-found");
        using var again = await client.DeleteAsync(Session(id), Cancellation);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Fact]
    public async Task UserSessions_ListedThenRevoked()
    {
        using var client = Client();
        var userId = NewName("user/with slash");
        var ids = new HashSet<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await CreateAsync(client, userId, $$"""{"n":{{i}}}"""));
        }

        var other = await CreateAsync(client, NewName("user"), "{}");
        var listed = await GetOkAsync(client, UserSessions(userId));
        Assert.Equal(ids.Order(), listed.EnumerateArray().Select(s => s.GetProperty("id").GetString()!).Order());

        using var revoked = await client.DeleteAsync(UserSessions(userId), Cancellation);
        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal(3, (await ReadJsonAsync(revoked)).GetProperty("revoked").GetInt32());
        Assert.Equal(0, (await GetOkAsync(client, UserSessions(userId))).GetArrayLength());
        foreach (var id in ids)
        {
            using var read = await client.GetAsync(Session(id), Cancellation);
            await AssertProblemAsync(read, HttpStatusCode.NotFound, "not-found");
        }

        using var untouched = await client.GetAsync(Session(other), Cancellation);
        Assert.Equal(HttpStatusCode.OK, untouched.StatusCode);
    }

    [Fact]
    public async Task AnotherTenantsSession_Is404AndCannotBeChangedOrRevoked()
    {
        using var client = Client();
        using var intruder = Client(ApiFactory.OtherTenantKey);
        var userId = NewName("user");
        var id = await CreateAsync(client, userId, """{"secret":"s"}""");

        using var read = await intruder.GetAsync(Session(id), Cancellation);
        await AssertProblemAsync(read, HttpStatusCode.NotFound, "not-found");
        using var patch = await SendAsync(intruder, HttpMethod.Patch, Session(id), """{"data":{"secret":"x"}}""");
        await AssertProblemAsync(patch, HttpStatusCode.NotFound, "not-found");
        using var rotate = await SendAsync(intruder, HttpMethod.Post, new Uri($"/v1/sessions/{id}/rotate", UriKind.Relative), null);
        await AssertProblemAsync(rotate, HttpStatusCode.NotFound, "not-found");
        using (await intruder.DeleteAsync(Session(id), Cancellation))
        {
        }

        using var revoke = await intruder.DeleteAsync(UserSessions(userId), Cancellation);
        Assert.Equal(0, (await ReadJsonAsync(revoke)).GetProperty("revoked").GetInt32());
        var mine = await GetOkAsync(client, Session(id));
        Assert.Equal("s", mine.GetProperty("data").GetProperty("secret").GetString());
    }

    [Theory]
    [InlineData("""{"data":{}}""", "userId")]
    [InlineData("""{"userId":""}""", "userId")]
    [InlineData("""{"userId":"u","data":[1]}""", "data")]
    [InlineData("""{"userId":"u","data":"text"}""", "data")]
    [InlineData("""{"userId":"u","idleTimeoutMs":0}""", "idleTimeoutMs")]
    [InlineData("""{"userId":"u","absoluteTimeoutMs":2592000001}""", "absoluteTimeoutMs")]
    public async Task Create_BadField_Answers400NamingIt(string json, string field)
    {
        using var client = Client();

        using var response = await SendAsync(client, HttpMethod.Post, SessionsUri, json);

        await AssertValidationProblemAsync(response, field);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"data":null}""")]
    [InlineData("""{"data":5}""")]
    public async Task Patch_WithoutAnObject_Answers400NamingDataAndChangesNothing(string json)
    {
        using var client = Client();
        var id = await CreateAsync(client, NewName("user"), """{"a":1}""");

        using var response = await SendAsync(client, HttpMethod.Patch, Session(id), json);

        await AssertValidationProblemAsync(response, "data");
        var session = await GetOkAsync(client, Session(id));
        Assert.Equal(1, session.GetProperty("version").GetInt64());
    }

    [Fact]
    public async Task UnknownAndMalformedIds_Are404()
    {
        using var client = Client();
        foreach (var id in new[] { "nope", new string('A', 22) + ".x", "AAAAAAAAAAAAAAAAAAAAAA.00" })
        {
            using var read = await client.GetAsync(Session(id), Cancellation);
            await AssertProblemAsync(read, HttpStatusCode.NotFound, "not-found");
        }
    }

    private static Uri Session(string id) => new($"/v1/sessions/{Uri.EscapeDataString(id)}", UriKind.Relative);

    private static Uri UserSessions(string userId) => new($"/v1/users/{Uri.EscapeDataString(userId)}/sessions", UriKind.Relative);

    private static async Task<string> CreateAsync(HttpClient client, string userId, string dataJson)
    {
        using var created = await SendAsync(client, HttpMethod.Post, SessionsUri, $$$"""{"userId":{{{JsonSerializer.Serialize(userId)}}},"data":{{{dataJson}}}}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        return (await ReadJsonAsync(created)).GetProperty("id").GetString()!;
    }
}
