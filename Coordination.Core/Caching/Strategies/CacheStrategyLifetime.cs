using Microsoft.Extensions.Hosting;

namespace Coordination;

/// <summary>
/// Creates <see cref="IBackedCache"/> when the host starts (so the write-behind loops run from the start and a
/// duplicate registration fails the start) and, when it stops, writes what the write-behind queues hold before the
/// connections close (hosted services stop in reverse order, and this one is added after <c>AddCoordination</c>'s).
/// </summary>
internal sealed class CacheStrategyLifetime(BackedCache cache) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => cache.StopAsync(cancellationToken);
}
