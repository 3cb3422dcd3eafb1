using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the System.Threading.RateLimiting adapters (EventId 1790-1799 of rate limiting's range; names frozen once shipped).</summary>
internal static partial class RedisRateLimiterLog
{
    [LoggerMessage(1790, LogLevel.Warning, "A concurrency lease could not be released when its RateLimitLease was disposed; it ends with its policy's period.", EventName = "RateLimitLeaseReleaseFailed")]
    public static partial void ReleaseFailed(ILogger logger, Exception exception);
}
