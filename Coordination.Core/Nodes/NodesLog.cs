using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the node reports (EventId 1800-1829; names are frozen once shipped).</summary>
internal static partial class NodesLog
{
    [LoggerMessage(1800, LogLevel.Information, "Node {Node} reports its state as {Role} every {Interval}.", EventName = "NodeReportsStarted")]
    public static partial void Started(ILogger logger, string node, string role, TimeSpan interval);

    [LoggerMessage(1801, LogLevel.Warning, "This node's report could not be written to Redis; other nodes will show it stale until it can. Trying again every {Interval}.", EventName = "NodeReportFailed")]
    public static partial void ReportFailed(ILogger logger, TimeSpan interval, Exception exception);

    [LoggerMessage(1802, LogLevel.Information, "This node's report is written to Redis again after {Failures} failed attempts.", EventName = "NodeReportResumed")]
    public static partial void ReportResumed(ILogger logger, long failures);

    [LoggerMessage(1803, LogLevel.Debug, "Node report written: {Nodes} nodes reporting, {Dropped} old reports dropped.", EventName = "NodeReportWritten")]
    public static partial void ReportWritten(ILogger logger, long nodes, long dropped);

    [LoggerMessage(1804, LogLevel.Warning, "The node report section {Section} failed and is left out of the report.", EventName = "NodeReportSectionFailed")]
    public static partial void SectionFailed(ILogger logger, string section, Exception exception);

    [LoggerMessage(1805, LogLevel.Warning, "The node report section {Section} is {Bytes} bytes of JSON, more than {Limit}; it is left out of the report.", EventName = "NodeReportSectionTooLarge")]
    public static partial void SectionTooLarge(ILogger logger, string section, int bytes, int limit);

    [LoggerMessage(1806, LogLevel.Warning, "{Count} node or duty records in Redis could not be read and are left out (written by another version, or changed by hand).", EventName = "NodeReportsUnreadable")]
    public static partial void Unreadable(ILogger logger, int count);

    [LoggerMessage(1807, LogLevel.Debug, "The node reports could not be read from Redis; the last read is shown.", EventName = "NodeReportsReadFailed")]
    public static partial void ReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(1808, LogLevel.Warning, "This node's report is {Bytes} bytes of JSON, more than {Limit}; it is written without its sections.", EventName = "NodeReportTooLarge")]
    public static partial void ReportTooLarge(ILogger logger, int bytes, int limit);

    [LoggerMessage(1809, LogLevel.Warning, "This node's report could not be withdrawn at stop; the others see it stale until it expires.", EventName = "NodeReportWithdrawFailed")]
    public static partial void WithdrawFailed(ILogger logger, Exception exception);
}
