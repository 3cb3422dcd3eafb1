using Coordination.IntegrationTests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Api.Tests.Infrastructure;

/// <summary>
/// The API in this process on Kestrel (so request limits and raw paths behave as in production), against a real
/// redis-server, with API keys for two tenants. Settings are given through configuration, as the AppHost does.
/// </summary>
public sealed class ApiFactory(string redisConnectionString, IReadOnlyDictionary<string, string?>? settings = null)
    : WebApplicationFactory<Program>
{
    // At least ApiKeysOptions.MinimumKeyLength (32) characters: shorter keys fail the start.
    public const string MemberKey = "member-key-tenant-a-0123456789abcdef";
    public const string AdminKey = "admin-key-tenant-a-0123456789abcdef";
    public const string OtherTenantKey = "member-key-tenant-b-0123456789abcdef";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        // Production, not Development: the answers must not depend on development-only defaults.
        builder.UseEnvironment("Production");
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redisConnectionString,
            ["Coordination:KeyPrefix"] = "api-tests-" + Guid.NewGuid().ToString("N")[..12],
            ["Coordination:ApiKeys:0:Key"] = MemberKey,
            ["Coordination:ApiKeys:0:Tenant"] = "tenant-a",
            ["Coordination:ApiKeys:0:Role"] = "member",
            ["Coordination:ApiKeys:1:Key"] = AdminKey,
            ["Coordination:ApiKeys:1:Tenant"] = "tenant-a",
            ["Coordination:ApiKeys:1:Role"] = "admin",
            ["Coordination:ApiKeys:2:Key"] = OtherTenantKey,
            ["Coordination:ApiKeys:2:Tenant"] = "tenant-b",
            ["Coordination:ApiKeys:2:Role"] = "Member",
            // Every test calls from loopback: the shared API must not throttle the tests that send wrong keys on purpose
            // (AuthenticationThrottleTests start their own API with a low limit).
            ["Coordination:AuthenticationThrottle:FailureLimit"] = "1000000",
            // The tests of one API share tenant A's request rate (Coordination:Api:RateLimit): room for all of them, so no
            // test is refused because of the others. TenantRequestRateTests start their own API with a small policy.
            ["Coordination:RateLimiting:Policies:api-requests:Limit"] = "1000000",
            ["Coordination:RateLimiting:Policies:api-requests:Burst"] = "1000000",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            configuration[key] = value;
        }

        foreach (var (key, value) in configuration)
        {
            builder.UseSetting(key, value);
        }
    }

    /// <summary>Starts Kestrel on a free loopback port and returns a client for it, with <paramref name="apiKey"/> when given.</summary>
    public HttpClient CreateApiClient(string? apiKey = MemberKey)
    {
        var address = Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = new Uri(address) });
        client.Timeout = TimeSpan.FromSeconds(30);
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }

        return client;
    }

    /// <summary>A factory on Kestrel, started.</summary>
    public static ApiFactory StartOnKestrel(string redisConnectionString, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var factory = new ApiFactory(redisConnectionString, settings);
        factory.UseKestrel(0);
        factory.StartServer();
        return factory;
    }
}
