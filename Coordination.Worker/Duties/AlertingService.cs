namespace Coordination.Worker.Duties;

/// <summary>
/// Listens to the platform's state changes (connection lost/restored, circuit opened/closed, fallback
/// engaged/recovered) and reports each as a log event (<see cref="WorkerLog"/>, event ids 1100-1105): Warning or
/// Error when something broke, Information when it is resolved. Nothing else is sent anywhere.
/// </summary>
/// <remarks>Handlers run on the thread that saw the change, so they only log and return.</remarks>
internal sealed class AlertingService(ICoordinationEvents events, ILogger<AlertingService> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        events.ConnectionLost += OnConnectionLost;
        events.ConnectionRestored += OnConnectionRestored;
        events.CircuitOpened += OnCircuitOpened;
        events.CircuitClosed += OnCircuitClosed;
        events.FallbackEngaged += OnFallbackEngaged;
        events.FallbackRecovered += OnFallbackRecovered;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        events.ConnectionLost -= OnConnectionLost;
        events.ConnectionRestored -= OnConnectionRestored;
        events.CircuitOpened -= OnCircuitOpened;
        events.CircuitClosed -= OnCircuitClosed;
        events.FallbackEngaged -= OnFallbackEngaged;
        events.FallbackRecovered -= OnFallbackRecovered;
        return Task.CompletedTask;
    }

    private void OnConnectionLost(object? sender, ConnectionEventArgs e) =>
        WorkerLog.AlertConnectionLost(logger, e.ConnectionId, e.FailureType);

    private void OnConnectionRestored(object? sender, ConnectionEventArgs e) =>
        WorkerLog.AlertConnectionRestored(logger, e.ConnectionId);

    private void OnCircuitOpened(object? sender, CircuitEventArgs e) =>
        WorkerLog.AlertCircuitOpened(logger, e.BreakDuration ?? TimeSpan.Zero);

    private void OnCircuitClosed(object? sender, CircuitEventArgs e) =>
        WorkerLog.AlertCircuitClosed(logger);

    private void OnFallbackEngaged(object? sender, FallbackEventArgs e) =>
        WorkerLog.AlertFallbackEngaged(logger, e.Operation);

    private void OnFallbackRecovered(object? sender, FallbackEventArgs e) =>
        WorkerLog.AlertFallbackRecovered(logger, e.ReplayedWrites);
}
