using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>
/// One replica of the real Coordination.Api (its Program: authentication, tenant limits, validation, problem details,
/// the capabilities) in this process, on Kestrel on a free loopback port rather than TestServer, so every request
/// crosses a real socket. Two of them on the same Redis and key prefix are the API's two replicas. Production
/// environment, default options except the API keys, the key prefix, the log level and the API's own per-tenant
/// request rate, raised so that it never refuses the benchmark's load (it is still checked in Redis on every request).
/// </summary>
internal sealed class ApiReplica(string redisConnectionString) : WebApplicationFactory<Program>
{
    // At least 32 characters (ApiKeysOptions.MinimumKeyLength).
    public const string MemberKey = "e2e-bench-tenant-member-0123456789abcdef";
    public const string AdminKey = "e2e-bench-operator-admin-0123456789abcdef";
    public const string Tenant = "e2e-api";
    public const string KeyPrefix = "e2e-bench";

    /// <summary>The API's own request rate per tenant (a token bucket per second), far above what two cores can send.</summary>
    public const int RequestRateLimit = 10_000_000;

    public Uri BaseAddress => new(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    public static ApiReplica Start(string redisConnectionString)
    {
        var replica = new ApiReplica(redisConnectionString);
        replica.UseKestrel(0);
        replica.StartServer();
        return replica;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redisConnectionString,
            ["Coordination:KeyPrefix"] = KeyPrefix,
            ["Coordination:ApiKeys:0:Key"] = MemberKey,
            ["Coordination:ApiKeys:0:Tenant"] = Tenant,
            ["Coordination:ApiKeys:0:Role"] = "member",
            ["Coordination:ApiKeys:1:Key"] = AdminKey,
            ["Coordination:ApiKeys:1:Tenant"] = "operator",
            ["Coordination:ApiKeys:1:Role"] = "admin",

            // The policy the API's per-tenant request rate uses (appsettings.json: 1,000/s, burst 2,000), raised.
            ["Coordination:RateLimiting:Policies:api-requests:Algorithm"] = "TokenBucket",
            ["Coordination:RateLimiting:Policies:api-requests:Limit"] = RequestRateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Coordination:RateLimiting:Policies:api-requests:Period"] = "00:00:01",
            ["Coordination:RateLimiting:Policies:api-requests:Burst"] = RequestRateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),

            // Nothing on the console per request; errors are counted by the load generator.
            ["Logging:LogLevel:Default"] = "Critical",
        };

        foreach (var (key, value) in configuration)
        {
            builder.UseSetting(key, value);
        }
    }
}
