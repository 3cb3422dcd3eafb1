using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the sessions (EventId 1600-1639; names are frozen once shipped).</summary>
internal static partial class SessionsLog
{
    [LoggerMessage(1600, LogLevel.Debug, "A session was created for a user of tenant {Tenant}; {Ended} older sessions of the user were ended by the cap.", EventName = "SessionCreated")]
    public static partial void Created(ILogger logger, string tenant, long ended);

    [LoggerMessage(1601, LogLevel.Debug, "A session of tenant {Tenant} was rotated to a new id.", EventName = "SessionRotated")]
    public static partial void Rotated(ILogger logger, string tenant);

    [LoggerMessage(1602, LogLevel.Debug, "{Count} sessions of a user of tenant {Tenant} were revoked.", EventName = "SessionsRevoked")]
    public static partial void Revoked(ILogger logger, string tenant, int count);

    [LoggerMessage(1603, LogLevel.Debug, "An update of a session of tenant {Tenant} expected version {Expected}, the session has {Actual}; nothing changed.", EventName = "SessionVersionConflict")]
    public static partial void VersionConflict(ILogger logger, string tenant, long expected, long actual);

    [LoggerMessage(1610, LogLevel.Information, "Session cleanup: {Indexes} user indexes scanned, {Removed} entries of ended sessions removed, {Purged} expired rows purged from the durable copy.", EventName = "SessionCleanupCompleted")]
    public static partial void CleanupCompleted(ILogger logger, long indexes, long removed, long purged);

    [LoggerMessage(1611, LogLevel.Debug, "Session cleanup skipped: another node is cleaning up.", EventName = "SessionCleanupSkipped")]
    public static partial void CleanupSkipped(ILogger logger);

    [LoggerMessage(1612, LogLevel.Warning, "A session change of tenant {Tenant} was made in Redis but its durable copy in PostgreSQL could not be written ({Operation}); it is written again with the session's next change.", EventName = "SessionPersistFailed")]
    public static partial void PersistFailed(ILogger logger, string tenant, string operation, Exception exception);

    [LoggerMessage(1613, LogLevel.Information, "A session of tenant {Tenant} missing from Redis was put back from its durable copy.", EventName = "SessionRestored")]
    public static partial void Restored(ILogger logger, string tenant);

    [LoggerMessage(1614, LogLevel.Warning, "Redis is unavailable for a session read of tenant {Tenant}; it was served from the durable copy in PostgreSQL.", EventName = "SessionServedFromCopy")]
    public static partial void ServedFromCopy(ILogger logger, string tenant, Exception exception);

    [LoggerMessage(1615, LogLevel.Warning, "Redis is unavailable for a session {Operation} of tenant {Tenant}; it was made in the durable copy in PostgreSQL and is replayed to Redis when Redis answers again.", EventName = "SessionWrittenToCopy")]
    public static partial void WrittenToCopy(ILogger logger, string tenant, string operation, Exception exception);

    [LoggerMessage(1616, LogLevel.Information, "{Count} session changes made in the durable copy while Redis was unavailable were replayed to Redis.", EventName = "SessionChangesReplayed")]
    public static partial void Replayed(ILogger logger, long count);

    [LoggerMessage(1617, LogLevel.Warning, "Replaying the session changes made while Redis was unavailable failed; they stay pending and are tried again.", EventName = "SessionReplayFailed")]
    public static partial void ReplayFailed(ILogger logger, Exception exception);

    [LoggerMessage(1624, LogLevel.Warning, "An update of a session of tenant {Tenant} was made in Redis (version {RedisVersion}) on a state that lacked a change made in the durable copy; it was applied again on top of the copy's (version {Version}), which the replay brings to Redis.", EventName = "SessionUpdateRebased")]
    public static partial void UpdateRebased(ILogger logger, string tenant, long redisVersion, long version);

    [LoggerMessage(1618, LogLevel.Information, "Session cleanup: {Count} ids of sessions that no longer exist were removed from the tenants' session ledgers (the session quota).", EventName = "SessionLedgerReconciled")]
    public static partial void LedgerReconciled(ILogger logger, long count);
    [LoggerMessage(1620, LogLevel.Debug, "A session of tenant {Tenant} was upgraded from data schema version {FromVersion} to {ToVersion} and written back.", EventName = "SessionUpgraded")]
    public static partial void Upgraded(ILogger logger, string tenant, int fromVersion, int toVersion);

    [LoggerMessage(1621, LogLevel.Debug, "A session of tenant {Tenant} was upgraded from data schema version {FromVersion} on read, but it changed before the write-back, which was skipped; the next read upgrades it again.", EventName = "SessionUpgradeSuperseded")]
    public static partial void UpgradeSuperseded(ILogger logger, string tenant, int fromVersion);

    [LoggerMessage(1622, LogLevel.Error, "A session of tenant {Tenant} in data schema version {FromVersion} could not be upgraded; the read failed and nothing stored changed.", EventName = "SessionUpgradeFailed")]
    public static partial void UpgradeFailed(ILogger logger, string tenant, int fromVersion, Exception exception);

    [LoggerMessage(1623, LogLevel.Warning, "A session of tenant {Tenant} was upgraded on read but Redis did not take the write-back; the read was answered and the next read upgrades it again.", EventName = "SessionUpgradeWriteBackFailed")]
    public static partial void UpgradeWriteBackFailed(ILogger logger, string tenant, Exception exception);
}
