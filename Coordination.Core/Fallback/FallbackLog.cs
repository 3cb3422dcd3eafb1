using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the PostgreSQL fallback (ids 1200-1299). Event ids and names are frozen once shipped.</summary>
internal static partial class FallbackLog
{
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

    [LoggerMessage(1207, LogLevel.Debug, "Purged {Count} expired rows from the PostgreSQL fallback store.", EventName = "ExpiredRowsPurged")]
    public static partial void ExpiredRowsPurged(ILogger logger, long count);

    [LoggerMessage(1208, LogLevel.Warning, "Purging expired rows from the PostgreSQL fallback store failed; retrying at the next interval.", EventName = "PurgeFailed")]
    public static partial void PurgeFailed(ILogger logger, Exception exception);

    [LoggerMessage(1209, LogLevel.Warning, "The PostgreSQL mirror queue is full: writes made in Redis are not mirrored until the queue drains and they are reconciled from Redis.", EventName = "MirrorBehind")]
    public static partial void MirrorBehind(ILogger logger);

    [LoggerMessage(1210, LogLevel.Information, "The PostgreSQL mirror caught up: {Count} keys reconciled from Redis (full scan: {FullScan}).", EventName = "MirrorReconciled")]
    public static partial void MirrorReconciled(ILogger logger, int count, bool fullScan);

    [LoggerMessage(1211, LogLevel.Warning, "Reconciling the PostgreSQL mirror from Redis failed; retrying.", EventName = "MirrorReconcileFailed")]
    public static partial void MirrorReconcileFailed(ILogger logger, Exception exception);

    [LoggerMessage(1212, LogLevel.Warning, "Redis lost its key/value data, or starts empty (the durability marker was missing or written by another server run: a first start, a restart without persistence, a failover or a FLUSHALL; new life since {Since}): values the PostgreSQL mirror holds are restored.", EventName = "RedisDataLost")]
    public static partial void RedisDataLost(ILogger logger, DateTimeOffset? since);

    [LoggerMessage(1213, LogLevel.Information, "This node runs the bulk reload of key/value data from the PostgreSQL mirror.", EventName = "RepairStarted")]
    public static partial void RepairStarted(ILogger logger);

    [LoggerMessage(1214, LogLevel.Information, "The bulk reload from the PostgreSQL mirror is done: {Restored} of {Visited} live rows restored in {Seconds:F1} s.", EventName = "RepairCompleted")]
    public static partial void RepairCompleted(ILogger logger, long restored, long visited, double seconds);

    [LoggerMessage(1215, LogLevel.Warning, "The bulk reload from the PostgreSQL mirror failed; it is taken up again at a later check.", EventName = "RepairFailed")]
    public static partial void RepairFailed(ILogger logger, Exception exception);

    [LoggerMessage(1216, LogLevel.Debug, "Checking Redis for a loss of key/value data failed; retrying at the next check.", EventName = "LossCheckFailed")]
    public static partial void LossCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(1217, LogLevel.Warning, "Reading a missed key from the PostgreSQL mirror during a repair failed; answered as absent.", EventName = "RepairReadFailed")]
    public static partial void RepairReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(1218, LogLevel.Warning, "The loss check or bulk reload did not stop within {Timeout}; the host stops without waiting for it.", EventName = "RepairStopTimedOut")]
    public static partial void RepairStopTimedOut(ILogger logger, TimeSpan timeout);
}
