using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// Log events of the locks (ids 1400-1499, and 1301 at shutdown). Event ids and names are frozen once shipped. Lock names, owners and
/// tenants appear only at Debug.
/// </summary>
internal static partial class LocksLog
{
    [LoggerMessage(1400, LogLevel.Warning, "A lock held by this process was lost ({Reason}); the resource it protects should refuse fencing token {FencingToken} from now on.", EventName = "LockLost")]
    public static partial void LockLost(ILogger logger, LockLostReason reason, long fencingToken);

    [LoggerMessage(1401, LogLevel.Debug, "Lock '{Name}' of tenant {Tenant} was lost ({Reason}).", EventName = "LockLostDetail")]
    public static partial void LockLostDetail(ILogger logger, string tenant, string name, LockLostReason reason);

    [LoggerMessage(1402, LogLevel.Debug, "Lock '{Name}' of tenant {Tenant} reached its time to live without renewal; its handle reports it lost.", EventName = "LockExpired")]
    public static partial void LockExpired(ILogger logger, string tenant, string name);

    [LoggerMessage(1403, LogLevel.Debug, "Renewing a lock could not reach Redis ({Reason}); retrying until its validity runs out.", EventName = "RenewalFailed")]
    public static partial void RenewalFailed(ILogger logger, UnavailableReason reason, Exception exception);

    [LoggerMessage(1404, LogLevel.Information, "Deadlock detected: waiting would close a cycle of {Length} owners; the waiter that would close it was refused.", EventName = "DeadlockDetected")]
    public static partial void DeadlockDetected(ILogger logger, int length);

    [LoggerMessage(1405, LogLevel.Debug, "Deadlock cycle in tenant {Tenant}: {Cycle}.", EventName = "DeadlockDetectedDetail")]
    public static partial void DeadlockDetectedDetail(ILogger logger, string tenant, string cycle);

    [LoggerMessage(1406, LogLevel.Warning, "A lock of level {Level} was taken while its owner holds one of level {HeldLevel} (hierarchy violation; configured to log, not throw).", EventName = "HierarchyViolated")]
    public static partial void HierarchyViolated(ILogger logger, int level, int heldLevel);

    [LoggerMessage(1407, LogLevel.Debug, "Hierarchy violation in tenant {Tenant}: '{Name}' (level {Level}) taken while holding '{HeldName}' (level {HeldLevel}).", EventName = "HierarchyViolatedDetail")]
    public static partial void HierarchyViolatedDetail(ILogger logger, string tenant, string name, int level, string heldName, int heldLevel);

    [LoggerMessage(1408, LogLevel.Warning, "The Redis primary changed (was {Previous}, is {Current}); locks held by this process are reported lost.", EventName = "PrimaryChanged")]
    public static partial void PrimaryChanged(ILogger logger, string previous, string current);

    [LoggerMessage(1409, LogLevel.Warning, "Releasing a lock could not reach Redis ({Reason}); it expires with its time to live.", EventName = "ReleaseFailed")]
    public static partial void ReleaseFailed(ILogger logger, UnavailableReason reason, Exception exception);

    [LoggerMessage(1410, LogLevel.Debug, "A cycle of {Length} owners in the wait-for graph named a holder that no longer holds its lock; not a deadlock.", EventName = "StaleCycleIgnored")]
    public static partial void StaleCycleIgnored(ILogger logger, int length);

    [LoggerMessage(1411, LogLevel.Debug, "An attempt on lock '{Name}' of tenant {Tenant} was given up with its outcome unknown; a release of its token follows it on the same connection.", EventName = "AbandonedAttemptUndone")]
    public static partial void AbandonedAttemptUndone(ILogger logger, string tenant, string name);

    [LoggerMessage(1412, LogLevel.Debug, "Subscribed to lock release channel {Channel}.", EventName = "Subscribed")]
    public static partial void Subscribed(ILogger logger, string channel);

    [LoggerMessage(1413, LogLevel.Debug, "Reading the identity of the Redis primaries failed; trying again on the next connection event.", EventName = "PrimaryCheckFailed")]
    public static partial void PrimaryCheckFailed(ILogger logger, Exception exception);

    [LoggerMessage(1414, LogLevel.Debug, "A background lock call (cleanup) failed; what it cleans up expires on its own.", EventName = "BackgroundCallFailed")]
    public static partial void BackgroundCallFailed(ILogger logger, Exception exception);

    [LoggerMessage(1415, LogLevel.Error, "A callback registered on a lost lock's HandleLost token threw.", EventName = "LostCallbackFailed")]
    public static partial void LostCallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(1416, LogLevel.Warning, "Fencing epoch {Previous} -> {Current}: a Redis server life not seen before (run id {RunId}); fencing tokens issued from now on are above every earlier one.", EventName = "FencingEpochAdopted")]
    public static partial void FencingEpochAdopted(ILogger logger, long previous, long current, string runId);

    [LoggerMessage(1417, LogLevel.Warning, "The fencing epochs could not be read from PostgreSQL; acquisitions that need the epoch of a new Redis server life fail until it answers.", EventName = "FencingEpochUnavailable")]
    public static partial void FencingEpochUnavailable(ILogger logger, Exception exception);

    [LoggerMessage(1418, LogLevel.Debug, "Reading the Redis servers' identity and fencing epochs failed; acquisitions check the server's run id until a read succeeds (tried again shortly).", EventName = "FencingVerificationFailed")]
    public static partial void FencingVerificationFailed(ILogger logger, Exception exception);

    // Shutdown (ids 1300-1399, from before the locks had their own range).
    [LoggerMessage(1301, LogLevel.Warning, "Could not release {Count} locks at shutdown; they expire with their TTL.", EventName = "LocksNotReleasedAtShutdown")]
    public static partial void LocksNotReleasedAtShutdown(ILogger logger, int count, Exception? exception);
}
