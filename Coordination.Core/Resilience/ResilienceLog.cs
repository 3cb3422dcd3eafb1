using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the resilience layer: the circuit (ids 1100-1199) and the event hub (1007). Event ids and names are frozen once shipped.</summary>
internal static partial class ResilienceLog
{
    [LoggerMessage(1007, LogLevel.Error, "A coordination event handler threw.", EventName = "EventHandlerFailed")]
    public static partial void EventHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(1100, LogLevel.Error, "Circuit to Redis opened for {BreakDuration}.", EventName = "CircuitOpened")]
    public static partial void CircuitOpened(ILogger logger, TimeSpan breakDuration, Exception? exception);

    [LoggerMessage(1101, LogLevel.Information, "Circuit to Redis closed.", EventName = "CircuitClosed")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(1102, LogLevel.Information, "Circuit to Redis half-open: probing.", EventName = "CircuitHalfOpened")]
    public static partial void CircuitHalfOpened(ILogger logger);

    [LoggerMessage(1103, LogLevel.Information, "A connection to Redis was restored or its topology changed: the circuit's break ends now instead of on its timer.", EventName = "BreakEndedEarly")]
    public static partial void BreakEndedEarly(ILogger logger);

    [LoggerMessage(1104, LogLevel.Warning, "Ending the circuit's break early failed; it ends on its timer.", EventName = "BreakEndFailed")]
    public static partial void BreakEndFailed(ILogger logger, Exception exception);

    [LoggerMessage(1105, LogLevel.Error, "Circuit to the Redis Cluster node {Server} opened for {BreakDuration}; calls to its slots fail at once, the other nodes' are served.", EventName = "NodeCircuitOpened")]
    public static partial void NodeCircuitOpened(ILogger logger, string server, TimeSpan breakDuration, Exception? exception);

    [LoggerMessage(1106, LogLevel.Information, "Circuit to the Redis Cluster node {Server} closed.", EventName = "NodeCircuitClosed")]
    public static partial void NodeCircuitClosed(ILogger logger, string server);
}
