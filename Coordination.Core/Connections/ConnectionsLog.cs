using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the Redis connection pool (ids 1000-1099 but 1007). Event ids and names are frozen once shipped.</summary>
internal static partial class ConnectionsLog
{
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

    [LoggerMessage(1008, LogLevel.Warning, "Connection pool maintenance failed.", EventName = "PoolMaintenanceFailed")]
    public static partial void PoolMaintenanceFailed(ILogger logger, Exception exception);
}
