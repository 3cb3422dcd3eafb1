namespace Coordination.Worker.Duties;

/// <summary>The worker's log events. Event ids 1000-1099 heartbeat, 1100-1199 alerts, 1200-1299 session cleanup (1200, 1202 and 1203 retired with the move onto the duty scheduler, whose events are 1860-1874), 1300-1399 session migration (1304 and 1305 retired with the move onto the duty scheduler), 1870-1874 the worker's own duties (1860-1869 are the duty scheduler's, in Coordination.Core); names are frozen once shipped.</summary>
internal static partial class WorkerLog
{
    [LoggerMessage(EventId = 1000, EventName = "HeartbeatStarted", Level = LogLevel.Information,
        Message = "Writing the heartbeat of {Machine} every {Interval}.")]
    public static partial void HeartbeatStarted(ILogger logger, string machine, TimeSpan interval);

    [LoggerMessage(EventId = 1001, EventName = "HeartbeatUnavailable", Level = LogLevel.Warning,
        Message = "The heartbeat could not be written: coordination is unavailable ({Reason}). Retrying on schedule.")]
    public static partial void HeartbeatUnavailable(ILogger logger, UnavailableReason reason, Exception exception);

    [LoggerMessage(EventId = 1002, EventName = "HeartbeatStillUnavailable", Level = LogLevel.Debug,
        Message = "The heartbeat still cannot be written ({Reason}).")]
    public static partial void HeartbeatStillUnavailable(ILogger logger, UnavailableReason reason);

    [LoggerMessage(EventId = 1003, EventName = "HeartbeatRecovered", Level = LogLevel.Information,
        Message = "The heartbeat is written again.")]
    public static partial void HeartbeatRecovered(ILogger logger);

    [LoggerMessage(EventId = 1004, EventName = "HeartbeatFailed", Level = LogLevel.Error,
        Message = "The heartbeat failed unexpectedly. Retrying on schedule.")]
    public static partial void HeartbeatFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 1100, EventName = "AlertConnectionLost", Level = LogLevel.Warning,
        Message = "Alert: Redis connection #{ConnectionId} lost ({FailureType}).")]
    public static partial void AlertConnectionLost(ILogger logger, int connectionId, string failureType);

    [LoggerMessage(EventId = 1101, EventName = "AlertConnectionRestored", Level = LogLevel.Information,
        Message = "Alert resolved: Redis connection #{ConnectionId} restored.")]
    public static partial void AlertConnectionRestored(ILogger logger, int connectionId);

    [LoggerMessage(EventId = 1102, EventName = "AlertCircuitOpened", Level = LogLevel.Error,
        Message = "Alert: the circuit to Redis opened for {BreakDuration}; calls fail fast.")]
    public static partial void AlertCircuitOpened(ILogger logger, TimeSpan breakDuration);

    [LoggerMessage(EventId = 1103, EventName = "AlertCircuitClosed", Level = LogLevel.Information,
        Message = "Alert resolved: the circuit to Redis closed.")]
    public static partial void AlertCircuitClosed(ILogger logger);

    [LoggerMessage(EventId = 1104, EventName = "AlertFallbackEngaged", Level = LogLevel.Error,
        Message = "Alert: key/value calls are served by the PostgreSQL fallback (first: {Operation}).")]
    public static partial void AlertFallbackEngaged(ILogger logger, string operation);

    [LoggerMessage(EventId = 1105, EventName = "AlertFallbackRecovered", Level = LogLevel.Information,
        Message = "Alert resolved: Redis serves again; {ReplayedWrites} fallback writes replayed.")]
    public static partial void AlertFallbackRecovered(ILogger logger, int replayedWrites);

    [LoggerMessage(EventId = 1201, EventName = "SessionCleanupDone", Level = LogLevel.Information,
        Message = "Session cleanup: {Indexes} user indexes scanned, {Removed} entries of ended sessions removed, {Purged} expired rows purged from the durable copy.")]
    public static partial void SessionCleanupDone(ILogger logger, long indexes, long removed, long purged);

    [LoggerMessage(EventId = 1300, EventName = "SessionMigrationStarted", Level = LogLevel.Information,
        Message = "Moving sessions from Coordination:Sessions:MigrateFrom to the current location; a skipped pass is retried every {Interval}.")]
    public static partial void SessionMigrationStarted(ILogger logger, TimeSpan interval);

    [LoggerMessage(EventId = 1301, EventName = "SessionMigrationPass", Level = LogLevel.Information,
        Message = "Session migration pass: {Indexes} user indexes at the source, {Moved} sessions moved, {Present} already here, {Ended} ended.")]
    public static partial void SessionMigrationPass(ILogger logger, long indexes, long moved, long present, long ended);

    [LoggerMessage(EventId = 1302, EventName = "SessionMigrationDrained", Level = LogLevel.Information,
        Message = "The session migration source is empty: remove Coordination:Sessions:MigrateFrom from every node's configuration.")]
    public static partial void SessionMigrationDrained(ILogger logger);

    [LoggerMessage(EventId = 1303, EventName = "SessionMigrationDrainedKeepPrefix", Level = LogLevel.Information,
        Message = "The session migration source is empty. The key prefix changed: the moved sessions keep their ids, whose slot tag is the old prefix's, and they are listed and revoked with their users only while Coordination:Sessions:MigrateFrom:KeyPrefix is set. Remove Coordination:Sessions:MigrateFrom once they have ended (their absolute timeout, at most Coordination:Sessions:DefaultAbsoluteTimeout unless sessions set longer ones).")]
    public static partial void SessionMigrationDrainedKeepPrefix(ILogger logger);

    [LoggerMessage(EventId = 1870, EventName = "FallbackPurged", Level = LogLevel.Debug,
        Message = "Fallback purge: {Purged} expired rows deleted (at most {Limit} per run).")]
    public static partial void FallbackPurged(ILogger logger, long purged, int limit);
}
