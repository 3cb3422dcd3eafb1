using Microsoft.Extensions.Hosting;

namespace Coordination;

/// <summary>Hosts the <see cref="CacheWarmingService"/> singleton, so tests and diagnostics can resolve the running instance.</summary>
internal sealed class CacheWarmingHost(CacheWarmingService service) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => service.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => service.StopAsync(cancellationToken);
}
