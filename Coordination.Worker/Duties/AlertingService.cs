namespace Coordination.Worker.Duties;

/// <summary>
/// The Worker's log lines of the platform's state changes (connection lost/restored, circuit opened/closed, fallback
/// engaged/recovered; <see cref="WorkerLog"/>, event ids 1100-1105), kept so that existing log queries keep working.
/// The alerts themselves are no longer this class's: the Alerts capability (<c>WithAlerts</c> in Program.cs, run by
/// every API replica too) evaluates the rules, decides once for the system which node notifies an incident, logs it
/// (AlertsLog, 1830-1859) and posts it to the webhooks of <c>Coordination:Alerts</c>.
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
