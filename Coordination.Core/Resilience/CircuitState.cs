namespace Coordination;

/// <summary>The state of the circuit breaker in front of Redis.</summary>
public enum CircuitState
{
    /// <summary>Calls flow to Redis.</summary>
    Closed,

    /// <summary>Calls fail at once with <see cref="CoordinationUnavailableException"/> until the break ends.</summary>
    Open,

    /// <summary>The break has ended; the next call probes Redis and closes or reopens the circuit.</summary>
    HalfOpen,

    /// <summary>The circuit was opened by hand and stays open until closed by hand.</summary>
    Isolated,
}
