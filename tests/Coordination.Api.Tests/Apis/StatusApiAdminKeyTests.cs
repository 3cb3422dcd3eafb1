using System.Net;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Apis;

/// <summary><c>Coordination:Status:RequireAdminKey</c>: the status needs an admin key (its own API instance).</summary>
public sealed class StatusApiAdminKeyTests(ApiFixture fixture) : ApiTest(fixture), IAsyncLifetime
{
    private ApiFactory? _api;

    public ValueTask InitializeAsync()
    {
        _api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?> { ["Coordination:Status:RequireAdminKey"] = "true" });
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (_api is not null)
        {
            await _api.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("/v1/status")]
    [InlineData("/status")]
    public async Task Status_WithoutKey_Answers401(string path)
    {
        using var client = _api!.CreateApiClient(apiKey: null);
        using var response = await client.GetAsync(new Uri(path, UriKind.Relative), Cancellation);
        await AssertProblemAsync(response, HttpStatusCode.Unauthorized, "unauthorized");
    }

    [Fact]
    public async Task Status_WithMemberKey_Answers403()
    {
        using var client = _api!.CreateApiClient(ApiFactory.MemberKey);
        using var response = await client.GetAsync(new Uri("/v1/status", UriKind.Relative), Cancellation);
        await AssertProblemAsync(response, HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Status_WithAdminKey_Answers200()
    {
        using var client = _api!.CreateApiClient(ApiFactory.AdminKey);
        using var response = await client.GetAsync(new Uri("/v1/status", UriKind.Relative), Cancellation);
        await AssertStatusAsync(response, HttpStatusCode.OK);
    }
}
