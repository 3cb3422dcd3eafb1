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
public sealed class StrategyHost : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private StrategyHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

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
            await host._host.StartAsync(timeout.Token);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }

        return host;
    }

    /// <summary>Stops the host as an orderly shutdown would (write-behind queues flushed, locks released).</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        _stopped = true;
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await _host.StopAsync(cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            try
            {
                await StopAsync();
            }
#pragma warning disable CA1031 // Cleanup after a failed test must go on to dispose the host.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
        }

        if (_host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            _host.Dispose();
        }
    }
}
