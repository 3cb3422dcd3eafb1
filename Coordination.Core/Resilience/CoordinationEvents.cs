using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Raises, logs and counts state changes.</summary>
internal sealed class CoordinationEvents(CoordinationMetrics metrics, ILogger<CoordinationEvents> logger) : ICoordinationEvents
{
    public event EventHandler<ConnectionEventArgs>? ConnectionLost;

    public event EventHandler<ConnectionEventArgs>? ConnectionRestored;

    public event EventHandler<CircuitEventArgs>? CircuitOpened;

    public event EventHandler<CircuitEventArgs>? CircuitClosed;

    public event EventHandler<FallbackEventArgs>? FallbackEngaged;

    public event EventHandler<FallbackEventArgs>? FallbackRecovered;

    public event EventHandler<LockLostEventArgs>? LockLost;

    public void OnConnectionLost(ConnectionEventArgs args)
    {
        ConnectionsLog.ConnectionLost(logger, args.ConnectionId, args.Endpoint, args.FailureType, args.Exception);
        Raise(ConnectionLost, args, "connection_lost");
    }

    public void OnConnectionRestored(ConnectionEventArgs args)
    {
        ConnectionsLog.ConnectionRestored(logger, args.ConnectionId, args.Endpoint);
        Raise(ConnectionRestored, args, "connection_restored");
    }

    public void OnCircuitOpened(CircuitEventArgs args)
    {
        ResilienceLog.CircuitOpened(logger, args.BreakDuration ?? TimeSpan.Zero, args.Exception);
        Raise(CircuitOpened, args, "circuit_opened");
    }

    public void OnCircuitClosed(CircuitEventArgs args)
    {
        ResilienceLog.CircuitClosed(logger);
        Raise(CircuitClosed, args, "circuit_closed");
    }

    public void OnCircuitHalfOpened()
    {
        ResilienceLog.CircuitHalfOpened(logger);
        metrics.RecordEvent("circuit_half_opened");
    }

    public void OnFallbackEngaged(FallbackEventArgs args)
    {
        FallbackLog.FallbackEngaged(logger, args.Operation, args.Exception);
        Raise(FallbackEngaged, args, "fallback_engaged");
    }

    public void OnFallbackRecovered(FallbackEventArgs args)
    {
        FallbackLog.FallbackRecovered(logger, args.ReplayedWrites);
        Raise(FallbackRecovered, args, "fallback_recovered");
    }

    public void OnLockLost(LockLostEventArgs args)
    {
        LocksLog.LockLost(logger, args.Reason, args.FencingToken);
        LocksLog.LockLostDetail(logger, args.Tenant, args.Name, args.Reason);
        Raise(LockLost, args, "lock_lost");
    }

    public void RecordForcedReconnect() => metrics.RecordEvent("connection_replaced");

    private void Raise<T>(EventHandler<T>? handlers, T args, string metricName)
        where T : EventArgs
    {
        metrics.RecordEvent(metricName);
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<EventHandler<T>>())
        {
            try
            {
                handler(this, args);
            }
#pragma warning disable CA1031 // A subscriber's bug must not break the connection or circuit machinery.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ResilienceLog.EventHandlerFailed(logger, ex);
            }
        }
    }
}
