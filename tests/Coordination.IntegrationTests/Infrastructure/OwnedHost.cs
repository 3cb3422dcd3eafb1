using Microsoft.Extensions.Hosting;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>A started test host that stops in order when disposed, also after a failed test.</summary>
public abstract class OwnedHost(IHost host) : IAsyncDisposable
{
    private bool _stopped;

    public IServiceProvider Services => host.Services;

    protected Task StartHostAsync(CancellationToken cancellationToken) => host.StartAsync(cancellationToken);

    /// <summary>Stops the host as an orderly shutdown would (locks released, queues flushed, connections closed).</summary>
    public async Task StopAsync(TimeSpan? timeout = null)
    {
        _stopped = true;
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        await host.StopAsync(cts.Token);
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

        if (host is IAsyncDisposable asyncDisposable)
        {
            await asyncDisposable.DisposeAsync();
        }
        else
        {
            host.Dispose();
        }

        GC.SuppressFinalize(this);
    }
}
