using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the connection, resilience and fallback layers. Event ids and names are frozen once shipped.</summary>
internal static partial class CoordinationLog
{
    // Connections: 1000-1099.
    [LoggerMessage(1000, LogLevel.Warning, "Redis connection {ConnectionId} to {Endpoint} lost ({FailureType}).", EventName = "ConnectionLost")]
    public static partial void ConnectionLost(ILogger logger, int connectionId, string? endpoint, string failureType, Exception? exception);

    [LoggerMessage(1001, LogLevel.Information, "Redis connection {ConnectionId} to {Endpoint} restored.", EventName = "ConnectionRestored")]
    public static partial void ConnectionRestored(ILogger logger, int connectionId, string? endpoint);

    [LoggerMessage(1002, LogLevel.Warning, "Redis connection {ConnectionId} answered no heartbeat for {StalledMs} ms while connected; replacing it.", EventName = "ConnectionStalled")]
    public static partial void ConnectionStalled(ILogger logger, int connectionId, long stalledMs);

    [LoggerMessage(1003, LogLevel.Information, "Redis connection {ConnectionId} replaced after a stall.", EventName = "ConnectionReplaced")]
    public static partial void ConnectionReplaced(ILogger logger, int connectionId);

    [LoggerMessage(1004, LogLevel.Information, "Connection pool grew to {Size} connections.", EventName = "PoolGrew")]
    public static partial void PoolGrew(ILogger logger, int size);

    [LoggerMessage(1005, LogLevel.Information, "Connection pool shrank to {Size} connections.", EventName = "PoolShrank")]
    public static partial void PoolShrank(ILogger logger, int size);

    [LoggerMessage(1006, LogLevel.Warning, "Could not open a Redis connection yet; retrying in the background.", EventName = "ConnectDeferred")]
    public static partial void ConnectDeferred(ILogger logger, Exception exception);

    [LoggerMessage(1007, LogLevel.Error, "A coordination event handler threw.", EventName = "EventHandlerFailed")]
    public static partial void EventHandlerFailed(ILogger logger, Exception exception);

    [LoggerMessage(1008, LogLevel.Warning, "Connection pool maintenance failed.", EventName = "PoolMaintenanceFailed")]
    public static partial void PoolMaintenanceFailed(ILogger logger, Exception exception);

    // Resilience: 1100-1199.
    [LoggerMessage(1100, LogLevel.Error, "Circuit to Redis opened for {BreakDuration}.", EventName = "CircuitOpened")]
    public static partial void CircuitOpened(ILogger logger, TimeSpan breakDuration, Exception? exception);

    [LoggerMessage(1101, LogLevel.Information, "Circuit to Redis closed.", EventName = "CircuitClosed")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(1102, LogLevel.Information, "Circuit to Redis half-open: probing.", EventName = "CircuitHalfOpened")]
    public static partial void CircuitHalfOpened(ILogger logger);

    // Fallback: 1200-1299.
    [LoggerMessage(1200, LogLevel.Warning, "Key/value calls fall back to PostgreSQL after '{Operation}' failed.", EventName = "FallbackEngaged")]
    public static partial void FallbackEngaged(ILogger logger, string operation, Exception? exception);

    [LoggerMessage(1201, LogLevel.Information, "Redis is back: {Replayed} fallback writes replayed; key/value calls served by Redis again.", EventName = "FallbackRecovered")]
    public static partial void FallbackRecovered(ILogger logger, int replayed);

    [LoggerMessage(1202, LogLevel.Warning, "Mirroring {Count} writes to PostgreSQL failed; retrying.", EventName = "MirrorFailed")]
    public static partial void MirrorFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(1203, LogLevel.Information, "PostgreSQL fallback schema '{Schema}' is at version {Version}.", EventName = "FallbackMigrated")]
    public static partial void FallbackMigrated(ILogger logger, string schema, int version);

    [LoggerMessage(1204, LogLevel.Warning, "PostgreSQL fallback store is not ready; retrying.", EventName = "FallbackMigrationDeferred")]
    public static partial void FallbackMigrationDeferred(ILogger logger, Exception exception);

    [LoggerMessage(1205, LogLevel.Warning, "Replaying fallback writes to Redis failed; staying on the fallback.", EventName = "FallbackReplayFailed")]
    public static partial void FallbackReplayFailed(ILogger logger, Exception exception);

    [LoggerMessage(1206, LogLevel.Error, "{Count} writes could not be mirrored to PostgreSQL before shutdown (they are in Redis).", EventName = "MirrorAbandoned")]
    public static partial void MirrorAbandoned(ILogger logger, int count);

    // Coordinator: 1300-1399.
    [LoggerMessage(1300, LogLevel.Debug, "Released lock {Key} at shutdown.", EventName = "LockReleasedAtShutdown")]
    public static partial void LockReleasedAtShutdown(ILogger logger, string key);

    [LoggerMessage(1301, LogLevel.Warning, "Could not release {Count} locks at shutdown; they expire with their TTL.", EventName = "LocksNotReleasedAtShutdown")]
    public static partial void LocksNotReleasedAtShutdown(ILogger logger, int count, Exception? exception);
}
