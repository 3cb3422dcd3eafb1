using System.Net;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.OpenApi;

public sealed class OpenApiDocumentTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Theory]
    [InlineData("SetValueRequest", "value,ttlMs,durability", "value")]
    [InlineData("AcquireLockRequest", "ttlMs,waitMs,owner,token", "ttlMs")]
    [InlineData("ExtendLockRequest", "token,ttlMs", "token,ttlMs")]
    [InlineData("SetCacheEntryRequest", "value,ttlMs,tags", "value")]
    [InlineData("InvalidateCacheRequest", "tags,prefix", "")]
    public async Task Document_DescribesEachRequestSchemaWithItsPropertiesAndTheRequiredOnes(string name, string properties, string required)
    {
        var schema = await GetSchemaAsync(name);

        Assert.Equal(Sorted(properties), schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var actualRequired = schema.TryGetProperty("required", out var list) ? list.EnumerateArray().Select(e => e.GetString()!) : [];
        Assert.Equal(Sorted(required), actualRequired.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("SetValueRequest")]
    [InlineData("AcquireLockRequest")]
    [InlineData("ExtendLockRequest")]
    [InlineData("SetCacheEntryRequest")]
    public async Task Document_TtlIsAnIntegerNotAString(string schema)
    {
        var ttl = (await GetSchemaAsync(schema)).GetProperty("properties").GetProperty("ttlMs");
        var types = ttl.GetProperty("type").EnumerateArray().Select(e => e.GetString()).ToArray();
        Assert.Contains("integer", types);
        Assert.DoesNotContain("string", types);
    }

    [Theory]
    [InlineData("/v1/kv/{key}", "put", "SetValueRequest")]
    [InlineData("/v1/locks/{name}", "post", "AcquireLockRequest")]
    [InlineData("/v1/locks/{name}/extend", "post", "ExtendLockRequest")]
    [InlineData("/v1/cache/{key}", "put", "SetCacheEntryRequest")]
    [InlineData("/v1/cache/invalidate", "post", "InvalidateCacheRequest")]
    public async Task Document_EachBodyEndpointTakesItsRequestSchema(string path, string method, string schema)
    {
        var document = await GetDocumentAsync();
        var body = document.GetProperty("paths").GetProperty(path).GetProperty(method).GetProperty("requestBody");
        Assert.True(body.GetProperty("required").GetBoolean());
        var reference = body.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString();
        Assert.Equal("#/components/schemas/" + schema, reference);
    }

    [Fact]
    public async Task Document_DeclaresTheApiKeySchemeOnProtectedOperations()
    {
        var document = await GetDocumentAsync();
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("ApiKey");
        Assert.Equal("X-Api-Key", scheme.GetProperty("name").GetString());
        Assert.True(document.GetProperty("paths").GetProperty("/v1/kv/{key}").GetProperty("get").TryGetProperty("security", out _));
        Assert.False(document.GetProperty("paths").GetProperty("/v1/status").GetProperty("get").TryGetProperty("security", out _));
    }

    private static IOrderedEnumerable<string> Sorted(string commaSeparated) =>
        commaSeparated.Split(',', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal);

    private async Task<JsonElement> GetSchemaAsync(string name) =>
        (await GetDocumentAsync()).GetProperty("components").GetProperty("schemas").GetProperty(name);

    private async Task<JsonElement> GetDocumentAsync()
    {
        using var client = Client(apiKey: null);
        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return await ReadJsonAsync(response);
    }
}
