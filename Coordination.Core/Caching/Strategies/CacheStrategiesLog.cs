using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the cache strategies (EventId 1520-1529 of the cache's 1500-1599; names are frozen once shipped).</summary>
internal static partial class CacheStrategiesLog
{
    [LoggerMessage(1520, LogLevel.Warning, "The write-behind writer of prefix '{Prefix}' failed on a batch of {Count} writes (attempt {Attempt}); retrying in {Delay}.", EventName = "WriteBehindFailed")]
    public static partial void WriteBehindFailed(ILogger logger, string prefix, int count, int attempt, TimeSpan delay, Exception exception);

    [LoggerMessage(1521, LogLevel.Information, "The write-behind writer of prefix '{Prefix}' succeeded again after {Attempts} failed attempts.", EventName = "WriteBehindRecovered")]
    public static partial void WriteBehindRecovered(ILogger logger, string prefix, int attempts);

    [LoggerMessage(1522, LogLevel.Error, "Shutdown stopped waiting for the write-behind writer of prefix '{Prefix}': {Count} acknowledged writes were not written.", EventName = "WriteBehindAbandoned")]
    public static partial void WriteBehindAbandoned(ILogger logger, string prefix, long count);

    [LoggerMessage(1523, LogLevel.Information, "The write-behind queue of prefix '{Prefix}' is flushed and stopped ({Count} writes in all).", EventName = "WriteBehindStopped")]
    public static partial void WriteBehindStopped(ILogger logger, string prefix, long count);
}
