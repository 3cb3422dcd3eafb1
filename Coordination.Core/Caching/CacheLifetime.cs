using Microsoft.Extensions.Hosting;

namespace Coordination;

/// <summary>
/// Creates the cache runtime when the host starts (so the one dependency injection configured is the one every
/// tenant's cache uses) and stops its backplane at shutdown.
/// </summary>
internal sealed class CacheLifetime(CacheRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken) => await runtime.DisposeAsync();
}
