using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Chaos;

/// <summary>
/// One replica of the real Coordination.Api (its Program, middleware and configuration) in this process, on Kestrel on
/// a free loopback port, so every request crosses a real socket. Production environment, the run's shared settings.
/// </summary>
internal sealed class ChaosApiHost(string name, string redis, string postgres) : WebApplicationFactory<Program>
{
    // At least 32 characters (ApiKeysOptions.MinimumKeyLength).
    public const string MemberKey = "chaos-suite-tenant-member-0123456789";

    public string Name { get; } = name;

    public Uri BaseAddress => new(Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First());

    public static ChaosApiHost Start(string name, string redis, string postgres)
    {
        var host = new ChaosApiHost(name, redis, postgres);
        host.UseKestrel(0);
        host.StartServer();
        return host;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        var configuration = ChaosConfiguration.For(redis, postgres);
        configuration["Coordination:ApiKeys:0:Key"] = MemberKey;
        configuration["Coordination:ApiKeys:0:Tenant"] = "chaos-api";
        configuration["Coordination:ApiKeys:0:Role"] = "member";
        configuration["Logging:LogLevel:Default"] = "Critical";
        foreach (var (key, value) in configuration)
        {
            builder.UseSetting(key, value);
        }
    }
}
