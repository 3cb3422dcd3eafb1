using System.Net;
using Coordination.Api.Tests.Infrastructure;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Api.Tests.Authentication;

public sealed class ApiKeyAuthenticationTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Theory]
    [InlineData("/v1/kv/x")]
    [InlineData("/v1/cache/x")]
    [InlineData("/v1/locks/x")]
    public async Task Get_WithoutKey_Answers401ProblemWithChallenge(string path)
    {
        using var client = Client(apiKey: null);
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Cancellation);
        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Contains("missing", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("ApiKey header=\"X-Api-Key\"", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task Put_WithUnknownKey_Answers401()
    {
        using var client = Client("not-a-key");
        using var response = await SendAsync(client, HttpMethod.Put, Kv(NewName()), """{"value":1}""");
        var problem = await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
        Assert.Equal("The API key is not valid.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Get_WithTwoKeyHeaders_Answers401()
    {
        using var client = Client(apiKey: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, Kv(NewName()));
        request.Headers.Add("X-Api-Key", [ApiFactory.MemberKey, ApiFactory.AdminKey]);
        using var response = await client.SendAsync(request, Cancellation);
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Post_InvalidateWithoutKey_Answers401BeforeReadingTheBody()
    {
        using var client = Client(apiKey: null);
        using var response = await SendAsync(client, HttpMethod.Post, Invalidate, "{not json");
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task UnknownRoute_Answers404Problem()
    {
        using var client = Client();
        using var response = await client.GetAsync(new Uri("/v1/nothing-here", UriKind.Relative), Cancellation);
        await AssertProblemAsync(response, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task UnmappedMethod_Answers405Problem()
    {
        using var client = Client();
        using var response = await client.PatchAsync(Kv(NewName()), Json("{}"), Cancellation);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task AdminKey_CanUseMemberEndpoints()
    {
        using var client = Client(ApiFactory.AdminKey);
        using var response = await SendAsync(client, HttpMethod.Put, Kv(NewName()), """{"value":1}""");
        await AssertStatusAsync(response, HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task KeyValue_OfTwoTenants_AreIsolated()
    {
        using var tenantA = Client();
        using var tenantB = Client(ApiFactory.OtherTenantKey);
        var key = NewName();
        using (var put = await SendAsync(tenantA, HttpMethod.Put, Kv(key), """{"value":"a"}"""))
        {
            await AssertStatusAsync(put, HttpStatusCode.NoContent);
        }

        using (var other = await tenantB.GetAsync(Kv(key), Cancellation))
        {
            await AssertProblemAsync(other, HttpStatusCode.NotFound, "not-found");
        }

        using (var delete = await tenantB.DeleteAsync(Kv(key), Cancellation))
        {
            await AssertStatusAsync(delete, HttpStatusCode.NoContent);
        }

        using var mine = await tenantA.GetAsync(Kv(key), Cancellation);
        Assert.Equal("a", (await ReadJsonAsync(mine)).GetProperty("value").GetString());
    }

    [Fact]
    public async Task Start_WithABrokenKeySetting_Fails()
    {
        var failure = await StartFailureWithFourthKeyAsync("another-key-0123456789abcdefghijkl", "t", "owner");
        Assert.Contains("Coordination:ApiKeys:3:Role must be", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithAKeyShorterThan32Characters_FailsNamingTheSettingNotTheKey()
    {
        const string shortKey = "short-but-unique-key-0123456789";
        var failure = await StartFailureWithFourthKeyAsync(shortKey, "t", "member");
        Assert.Contains("Coordination:ApiKeys:3:Key is too short", failure, StringComparison.Ordinal);
        Assert.DoesNotContain(shortKey, failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_WithAKeyForTheWorkersTenant_Fails()
    {
        var failure = await StartFailureWithFourthKeyAsync("worker-tenant-key-0123456789abcdefgh", "default", "admin");
        Assert.Contains("Coordination:ApiKeys:3:Tenant is the tenant the Worker uses for itself", failure, StringComparison.Ordinal);
    }

    // Starts an API with one more key (index 3) that must fail the start; returns the whole failure chain as text
    // (inner exceptions included), so a test can check what it names and what it never prints.
    private async Task<string> StartFailureWithFourthKeyAsync(string key, string tenant, string role)
    {
        var failure = await StartFailure.CaptureAsync(async () =>
        {
            await using var factory = new ApiFactory(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
            {
                ["Coordination:ApiKeys:3:Key"] = key,
                ["Coordination:ApiKeys:3:Tenant"] = tenant,
                ["Coordination:ApiKeys:3:Role"] = role,
            });
            factory.StartServer();
        });
        return failure.ToString();
    }
}
