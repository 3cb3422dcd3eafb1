using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Benchmarks.Noisy;

/// <summary>
/// The real Coordination.Api (its Program: authentication, throttles, validation, problem details, the capabilities)
/// in this process, on Kestrel on a free loopback port rather than TestServer, so every request crosses a real socket
/// and Kestrel's connection handling, as in production. Production environment; settings through configuration, as
/// the AppHost gives them; the authentication throttle keeps its default limit.
/// </summary>
internal sealed class NoisyApiHost(string redisConnectionString, string? postgresConnectionString) : WebApplicationFactory<Program>
{
    // At least 32 characters (ApiKeysOptions.MinimumKeyLength).
    public const string AttackerKey = "noisy-bench-tenant-a-member-0123456789";
    public const string VictimKey = "noisy-bench-tenant-b-member-0123456789";
    public const string OperatorKey = "noisy-bench-operator-admin-0123456789";

    public Uri BaseAddress => new(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    public static NoisyApiHost Start(string redisConnectionString, string? postgresConnectionString)
    {
        var host = new NoisyApiHost(redisConnectionString, postgresConnectionString);
        host.UseKestrel(0);
        host.StartServer();
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redisConnectionString,
            ["Coordination:KeyPrefix"] = "noisy-bench",
            ["Coordination:ApiKeys:0:Key"] = AttackerKey,
            ["Coordination:ApiKeys:0:Tenant"] = "tenant-a",
            ["Coordination:ApiKeys:0:Role"] = "member",
            ["Coordination:ApiKeys:1:Key"] = VictimKey,
            ["Coordination:ApiKeys:1:Tenant"] = "tenant-b",
            ["Coordination:ApiKeys:1:Role"] = "member",
            ["Coordination:ApiKeys:2:Key"] = OperatorKey,
            ["Coordination:ApiKeys:2:Tenant"] = "operator",
            ["Coordination:ApiKeys:2:Role"] = "admin",

            // A flood's warnings and the circuit's errors on the console would cost the process more than the requests
            // themselves; the report reads the circuit's state from /v1/status instead.
            ["Logging:LogLevel:Default"] = "Critical",
        };
        if (postgresConnectionString is not null)
        {
            configuration["ConnectionStrings:coordinationdb"] = postgresConnectionString;
        }

        foreach (var (key, value) in configuration)
        {
            builder.UseSetting(key, value);
        }
    }
}
