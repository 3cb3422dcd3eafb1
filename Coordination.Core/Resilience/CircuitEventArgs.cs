namespace Coordination;

/// <summary>Describes a change of the circuit breaker's state.</summary>
public sealed class CircuitEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public CircuitEventArgs(CircuitState state, TimeSpan? breakDuration, Exception? exception)
    {
        State = state;
        BreakDuration = breakDuration;
        Exception = exception;
    }

    /// <summary>The new state.</summary>
    public CircuitState State { get; }

    /// <summary>How long the circuit stays open, when it opened.</summary>
    public TimeSpan? BreakDuration { get; }

    /// <summary>The failure that opened the circuit, when there was one.</summary>
    public Exception? Exception { get; }
}
