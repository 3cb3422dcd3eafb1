using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of session migration (EventId 1630-1639 of the sessions' range).</summary>
internal static partial class SessionsLog
{
    [LoggerMessage(1630, LogLevel.Information, "Session migration pass: {Indexes} user indexes found at the source, {Moved} sessions moved, {Present} already at the current location, {Ended} ended before they could be moved.", EventName = "SessionMigrationPassCompleted")]
    public static partial void MigrationPassCompleted(ILogger logger, long indexes, long moved, long present, long ended);

    [LoggerMessage(1631, LogLevel.Debug, "Session migration pass skipped: another node is migrating.", EventName = "SessionMigrationSkipped")]
    public static partial void MigrationSkipped(ILogger logger);

    [LoggerMessage(1632, LogLevel.Debug, "A session of tenant {Tenant} was moved from the migration source on its first use.", EventName = "SessionMovedOnUse")]
    public static partial void MovedOnUse(ILogger logger, string tenant);

    [LoggerMessage(1633, LogLevel.Debug, "A session export of tenant {Tenant} was older than {MaxAge} when it was to be imported; it is read again.", EventName = "SessionExportReread")]
    public static partial void ExportReread(ILogger logger, string tenant, TimeSpan maxAge);
}
