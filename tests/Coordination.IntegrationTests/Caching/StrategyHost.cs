using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// A real host with <c>AddCoordination()</c> plus whatever <c>configure</c> adds to the coordination builder
/// (strategies, warming), on the given Redis and key prefix. Two of them behave like two processes.
/// </summary>
public sealed class StrategyHost : OwnedHost
{
    private StrategyHost(IHost host)
        : base(host)
    {
    }

    public IBackedCache Backed => Services.GetRequiredService<IBackedCache>();

    internal RedisCacheManager Cache => (RedisCacheManager)Services.GetRequiredService<ICacheManager>();

    public static async Task<StrategyHost> StartAsync(
        string redisConnectionString,
        string keyPrefix,
        Action<ICoordinationBuilder> configure,
        IEnumerable<KeyValuePair<string, string?>>? settings = null,
        string hostName = "strategies")
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Testing",
            ApplicationName = "Coordination.IntegrationTests",
        });
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redisConnectionString,
            ["Coordination:KeyPrefix"] = keyPrefix,
            ["Coordination:Cache:InvalidationLogPollInterval"] = "00:00:00.200",
        };
        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }

        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddProvider(new TestOutputLoggerProvider(TestContext.Current.TestOutputHelper, hostName));
        configure(builder.AddCoordination());
        var host = new StrategyHost(builder.Build());
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StartHostAsync(timeout.Token);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }
}
