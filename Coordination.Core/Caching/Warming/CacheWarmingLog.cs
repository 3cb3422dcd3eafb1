using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of cache warming (EventId 1530-1539 of the cache's 1500-1599; names are frozen once shipped).</summary>
internal static partial class CacheWarmingLog
{
    [LoggerMessage(1530, LogLevel.Information, "This node holds the cache warming lock '{LockName}' and warms the cache.", EventName = "CacheWarmingLeading")]
    public static partial void Leading(ILogger logger, string lockName);

    [LoggerMessage(1531, LogLevel.Information, "{Warmers} cache warmers wrote {Keys} keys in {ElapsedMs} ms.", EventName = "CacheWarmersRan")]
    public static partial void WarmersRan(ILogger logger, int warmers, long keys, long elapsedMs);

    [LoggerMessage(1532, LogLevel.Error, "The cache warmer {Warmer} failed; the other warmers still run.", EventName = "CacheWarmerFailed")]
    public static partial void WarmerFailed(ILogger logger, string warmer, Exception exception);

    [LoggerMessage(1533, LogLevel.Warning, "This node lost the cache warming lock '{LockName}'; another node may take over.", EventName = "CacheWarmingLockLost")]
    public static partial void LockLost(ILogger logger, string lockName);

    [LoggerMessage(1534, LogLevel.Debug, "Reloaded {Keys} of {Candidates} hot keys in {ElapsedMs} ms.", EventName = "CacheHotKeysRewarmed")]
    public static partial void HotKeysRewarmed(ILogger logger, int keys, int candidates, long elapsedMs);

    [LoggerMessage(1535, LogLevel.Warning, "Cache warming could not reach Redis this round; it tries again at the next interval.", EventName = "CacheWarmingUnavailable")]
    public static partial void Unavailable(ILogger logger, Exception exception);

    [LoggerMessage(1536, LogLevel.Debug, "Reloading the hot key '{Key}' failed.", EventName = "CacheHotKeyRefreshFailed")]
    public static partial void HotKeyRefreshFailed(ILogger logger, string key, Exception exception);
}
