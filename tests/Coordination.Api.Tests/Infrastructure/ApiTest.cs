using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Coordination.Api.Tests.Infrastructure;

/// <summary>Helpers shared by the HTTP tests: names of their own, raw JSON bodies, and the problem assertions.</summary>
public abstract class ApiTest(ApiFixture fixture)
{
    public const string ProblemBase = "https://coordination.dev/errors/";

    protected ApiFixture Fixture { get; } = fixture;

    protected static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    /// <summary>A name no other test uses.</summary>
    protected static string NewName(string what = "k") => $"{what}-{Guid.NewGuid():N}";

    protected HttpClient Client(string? apiKey = ApiFactory.MemberKey) => Fixture.Api.CreateApiClient(apiKey);

    // Keys go in a catch-all route: each segment percent-encoded, the slashes kept.
    protected static Uri Kv(string key) => new($"/v1/kv/{EscapeSegments(key)}", UriKind.Relative);

    protected static Uri Cache(string key) => new($"/v1/cache/{EscapeSegments(key)}", UriKind.Relative);

    protected static Uri Lock(string name, string? token = null) =>
        new($"/v1/locks/{Uri.EscapeDataString(name)}{(token is null ? "" : "?token=" + Uri.EscapeDataString(token))}", UriKind.Relative);

    protected static Uri Extend(string name) => new($"/v1/locks/{Uri.EscapeDataString(name)}/extend", UriKind.Relative);

    private static string EscapeSegments(string key) => string.Join('/', key.Split('/').Select(Uri.EscapeDataString));

    protected static readonly Uri Invalidate = new("/v1/cache/invalidate", UriKind.Relative);

    /// <summary>A body sent exactly as given (UTF-8), as <c>application/json</c>.</summary>
    protected static ByteArrayContent Json(string json) => Json(Encoding.UTF8.GetBytes(json));

    protected static ByteArrayContent Json(byte[] utf8)
    {
        var content = new ByteArrayContent(utf8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    protected static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, Uri uri, string? json) =>
        client.SendAsync(new HttpRequestMessage(method, uri) { Content = json is null ? null : Json(json) }, Cancellation);

    /// <summary>Sends <paramref name="json"/> and asserts the answer is <paramref name="status"/> (204 by default).</summary>
    protected static async Task SendExpectingAsync(HttpClient client, HttpMethod method, Uri uri, string json, HttpStatusCode status = HttpStatusCode.NoContent)
    {
        using var response = await SendAsync(client, method, uri, json);
        await AssertStatusAsync(response, status);
    }

    /// <summary>GETs <paramref name="uri"/>, asserts 200 and returns the JSON body.</summary>
    protected static async Task<JsonElement> GetOkAsync(HttpClient client, Uri uri)
    {
        using var response = await client.GetAsync(uri, Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return await ReadJsonAsync(response);
    }

    protected static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        return JsonDocument.Parse(text.Length == 0 ? "{}" : text).RootElement.Clone();
    }

    /// <summary>400, <c>application/problem+json</c>, type <c>validation</c>, and <paramref name="fields"/> named in <c>errors</c>.</summary>
    protected static async Task<JsonElement> AssertValidationProblemAsync(HttpResponseMessage response, params string[] fields)
    {
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"Expected 400, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(ProblemBase + "validation", body.GetProperty("type").GetString());
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        var errors = body.GetProperty("errors");
        foreach (var field in fields)
        {
            Assert.True(errors.TryGetProperty(field, out var messages), $"'{field}' is not named in {errors.GetRawText()}");
            Assert.True(messages.GetArrayLength() > 0 && messages[0].GetString() is { Length: > 0 }, $"'{field}' has no message: {errors.GetRawText()}");
        }

        return errors;
    }

    /// <summary>The status, <c>application/problem+json</c> and the type suffix.</summary>
    protected static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type)
    {
        var text = await response.Content.ReadAsStringAsync(Cancellation);
        Assert.True(response.StatusCode == status, $"Expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = JsonDocument.Parse(text).RootElement.Clone();
        Assert.Equal(ProblemBase + type, body.GetProperty("type").GetString());
        return body;
    }

    protected static async Task AssertStatusAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        if (response.StatusCode != status)
        {
            Assert.Fail($"Expected {(int)status}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(Cancellation)}");
        }
    }
}
