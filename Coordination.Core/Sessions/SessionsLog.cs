using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the sessions (EventId 1600-1619; names are frozen once shipped).</summary>
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

    [LoggerMessage(1610, LogLevel.Information, "Session cleanup: {Indexes} user indexes scanned, {Removed} entries of ended sessions removed.", EventName = "SessionCleanupCompleted")]
    public static partial void CleanupCompleted(ILogger logger, long indexes, long removed);

    [LoggerMessage(1611, LogLevel.Debug, "Session cleanup skipped: another node is cleaning up.", EventName = "SessionCleanupSkipped")]
    public static partial void CleanupSkipped(ILogger logger);
}
