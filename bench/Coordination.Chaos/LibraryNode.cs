using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.Chaos;

/// <summary>A host with <c>AddCoordination</c> as an application builds it: one of the two library nodes of the run.</summary>
internal sealed class LibraryNode(string name, IHost host) : IAsyncDisposable
{
    public string Name { get; } = name;

    public IRedisCoordinator Coordinator { get; } = host.Services.GetRequiredService<IRedisCoordinator>();

    public static async Task<LibraryNode> StartAsync(string name, string redis, string postgres, WarningCounter warnings, CancellationToken cancellationToken)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = Environments.Production });
        builder.Configuration.AddInMemoryCollection(ChaosConfiguration.For(redis, postgres));

        // Thousands of failures a second during a fault: the console would cost more than the calls. Counted instead.
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(warnings);
        builder.AddCoordination();
        var host = builder.Build();
        await host.StartAsync(cancellationToken);
        return new LibraryNode(name, host);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await host.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
        }

        host.Dispose();
    }
}
