using System.Net;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Apis;

/// <summary>
/// The optional <c>durability</c> of <c>PUT</c> (body) and <c>DELETE</c> (query) on <c>/v1/kv</c>. This API runs without a
/// PostgreSQL store, so a synchronous write cannot be confirmed: 503 and nothing written. The confirmed path is proven
/// against real PostgreSQL in the integration tests (SynchronousDurabilityTests).
/// </summary>
public sealed class KeyValueDurabilityApiTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task SetValue_SynchronousWithoutDurableStore_Answers503AndWritesNothing()
    {
        using var client = Client();
        var key = NewName();

        using var put = await SendAsync(client, HttpMethod.Put, Kv(key), """{"value":"v","durability":"synchronous"}""");

        var problem = await AssertProblemAsync(put, HttpStatusCode.ServiceUnavailable, "unavailable");
        Assert.Equal("durable-copy-not-confirmed", problem.GetProperty("reason").GetString());
        using var get = await client.GetAsync(Kv(key), Cancellation);
        await AssertProblemAsync(get, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task SetValue_AsynchronousNamedInAnyCase_Stored()
    {
        using var client = Client();
        var key = NewName();

        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), """{"value":"v","durability":"Asynchronous"}""");

        Assert.Equal("v", (await GetOkAsync(client, Kv(key))).GetProperty("value").GetString());
    }

    [Theory]
    [InlineData("""{"value":"v","durability":"sometimes"}""")]
    [InlineData("""{"value":"v","durability":""}""")]
    public async Task SetValue_UnknownDurability_Answers400NamingDurabilityAndWritesNothing(string json)
    {
        using var client = Client();
        var key = NewName();

        using var put = await SendAsync(client, HttpMethod.Put, Kv(key), json);

        await AssertValidationProblemAsync(put, "durability");
        using var get = await client.GetAsync(Kv(key), Cancellation);
        await AssertProblemAsync(get, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task DeleteValue_DurabilityQuery_ValidatedAndHonoured()
    {
        using var client = Client();
        var key = NewName();
        await SendExpectingAsync(client, HttpMethod.Put, Kv(key), """{"value":"kept"}""");

        using var unknown = await client.DeleteAsync(new Uri(Kv(key) + "?durability=later", UriKind.Relative), Cancellation);
        await AssertValidationProblemAsync(unknown, "durability");
        using var synchronous = await client.DeleteAsync(new Uri(Kv(key) + "?durability=synchronous", UriKind.Relative), Cancellation);
        Assert.Equal("durable-copy-not-confirmed", (await AssertProblemAsync(synchronous, HttpStatusCode.ServiceUnavailable, "unavailable")).GetProperty("reason").GetString());
        Assert.Equal("kept", (await GetOkAsync(client, Kv(key))).GetProperty("value").GetString());

        using var asynchronous = await client.DeleteAsync(new Uri(Kv(key) + "?durability=asynchronous", UriKind.Relative), Cancellation);
        Assert.Equal(HttpStatusCode.NoContent, asynchronous.StatusCode);
        using var get = await client.GetAsync(Kv(key), Cancellation);
        await AssertProblemAsync(get, HttpStatusCode.NotFound, "not-found");
    }
}
