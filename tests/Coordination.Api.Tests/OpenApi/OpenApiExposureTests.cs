using System.Net;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.OpenApi;

/// <summary><c>Coordination:OpenApi:Enabled</c>: the document is served in Development, elsewhere only when asked for.</summary>
public sealed class OpenApiExposureTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Theory]
    [InlineData("Production", null, HttpStatusCode.NotFound)]
    [InlineData("Production", "false", HttpStatusCode.NotFound)]
    [InlineData("Production", "true", HttpStatusCode.OK)]
    [InlineData("Staging", null, HttpStatusCode.NotFound)]
    [InlineData("Development", null, HttpStatusCode.OK)]
    [InlineData("Development", "false", HttpStatusCode.NotFound)]
    public async Task OpenApiDocument_ByEnvironmentAndSetting_IsServedOnlyWhenEnabled(string environment, string? enabled, HttpStatusCode expected)
    {
        var settings = new Dictionary<string, string?> { ["environment"] = environment };
        if (enabled is not null)
        {
            settings["Coordination:OpenApi:Enabled"] = enabled;
        }

        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, settings);
        using var client = api.CreateApiClient(apiKey: null);
        using var response = await client.GetAsync(new Uri("/openapi/v1.json", UriKind.Relative), Cancellation);
        Assert.Equal(expected, response.StatusCode);
    }
}
