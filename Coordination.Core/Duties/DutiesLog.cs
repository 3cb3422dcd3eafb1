using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the duty scheduler (EventId 1860-1874; 1875-1889 are the hot-key reports'). Names are frozen once shipped.</summary>
internal static partial class DutiesLog
{
    [LoggerMessage(1860, LogLevel.Information, "Duty {Duty} runs every {Interval}, on one node at a time.", EventName = "DutyScheduled")]
    public static partial void Scheduled(ILogger logger, string duty, TimeSpan interval);

    [LoggerMessage(1861, LogLevel.Information, "Duty {Duty} is disabled on this node (Coordination:Worker:Duties:{Duty}:Enabled).", EventName = "DutyDisabled")]
    public static partial void Disabled(ILogger logger, string duty);

    [LoggerMessage(1862, LogLevel.Error, "Duty {Duty} failed ({Error}) after {ElapsedMs} ms; it runs again on schedule, at {NextRunAt:O}.", EventName = "DutyFailed")]
    public static partial void Failed(ILogger logger, string duty, string error, long elapsedMs, DateTimeOffset nextRunAt, Exception? exception);

    [LoggerMessage(1863, LogLevel.Debug, "Duty {Duty} ran in {ElapsedMs} ms; next run at {NextRunAt:O}.", EventName = "DutySucceeded")]
    public static partial void Succeeded(ILogger logger, string duty, long elapsedMs, DateTimeOffset nextRunAt);

    [LoggerMessage(1864, LogLevel.Debug, "Duty {Duty}: another node holds its lock.", EventName = "DutyBusy")]
    public static partial void Busy(ILogger logger, string duty);

    [LoggerMessage(1865, LogLevel.Warning, "Duty {Duty} cannot run: coordination is unavailable ({Reason}). Retrying.", EventName = "DutyUnavailable")]
    public static partial void Unavailable(ILogger logger, string duty, UnavailableReason reason);

    [LoggerMessage(1866, LogLevel.Debug, "Duty {Duty} still cannot run ({Reason}).", EventName = "DutyStillUnavailable")]
    public static partial void StillUnavailable(ILogger logger, string duty, UnavailableReason reason);

    [LoggerMessage(1867, LogLevel.Warning, "Duty {Duty} ran, but its state could not be recorded.", EventName = "DutyRecordFailed")]
    public static partial void RecordFailed(ILogger logger, string duty, Exception exception);

    [LoggerMessage(1868, LogLevel.Warning, "A duty observer failed for duty {Duty}; ignored.", EventName = "DutyObserverFailed")]
    public static partial void ObserverFailed(ILogger logger, string duty, Exception exception);

    [LoggerMessage(1869, LogLevel.Error, "Duty {Duty} failed outside a run: a duty that cannot be built does not run on this node, any other round is tried again.", EventName = "DutyLoopFailed")]
    public static partial void LoopFailed(ILogger logger, string duty, Exception exception);
}
