using Microsoft.Extensions.Hosting;

namespace Coordination;

/// <summary>Hosts the <see cref="AlertRuntime"/> singleton, so tests and diagnostics can resolve the running instance.</summary>
internal sealed class AlertsHost(AlertRuntime runtime) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => runtime.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => runtime.StopAsync(cancellationToken);
}
