using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the cache (EventId 1500-1599; names are frozen once shipped).</summary>
internal static partial class CachingLog
{
    [LoggerMessage(1500, LogLevel.Warning, "The cache serves a stale value (fail-safe) because {Reason}.", EventName = "CacheFailSafe")]
    public static partial void FailSafe(ILogger logger, string reason, Exception? exception);

    [LoggerMessage(1501, LogLevel.Warning, "The cache could not write to Redis; the value is kept in this node's memory only.", EventName = "CacheWriteFailed")]
    public static partial void WriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(1502, LogLevel.Warning, "A tenant's invalidation log no longer reaches back to this node's offset {Offset}; that tenant's memory level was cleared, the other tenants' were kept.", EventName = "CacheMemoryCleared")]
    public static partial void MemoryCleared(ILogger logger, string offset);

    [LoggerMessage(1503, LogLevel.Information, "The cache replayed {Count} invalidations from the log after offset {Offset}.", EventName = "CacheLogReplayed")]
    public static partial void Replayed(ILogger logger, int count, string offset);

    [LoggerMessage(1504, LogLevel.Debug, "The cache backplane could not be read or subscribed; it retries at the next poll.", EventName = "CacheBackplaneFailed")]
    public static partial void BackplaneFailed(ILogger logger, Exception exception);

    [LoggerMessage(1505, LogLevel.Debug, "A background cache refresh failed.", EventName = "CacheRefreshFailed")]
    public static partial void RefreshFailed(ILogger logger, Exception exception);

    [LoggerMessage(1506, LogLevel.Debug, "Cache key '{Key}' of tenant {Tenant} is computed by this node's factory.", EventName = "CacheFactoryCall")]
    public static partial void FactoryCall(ILogger logger, string key, string tenant);

    [LoggerMessage(1507, LogLevel.Debug, "The memory level of tenant {Tenant} was cleared: its invalidation log lost entries this node had not read.", EventName = "CacheTenantMemoryCleared")]
    public static partial void TenantMemoryCleared(ILogger logger, string tenant);

    [LoggerMessage(1508, LogLevel.Warning, "A tenant reached the bound of {Limit} tag and prefix stamps (Coordination:Cache:MaxStampsPerTenant); its oldest stamps are folded into its floor, which invalidates its older entries early.", EventName = "CacheStampsCapped")]
    public static partial void StampsCapped(ILogger logger, int limit);

    [LoggerMessage(1509, LogLevel.Debug, "Tenant {Tenant} reached the bound of tag and prefix stamps.", EventName = "CacheStampsCappedTenant")]
    public static partial void StampsCappedTenant(ILogger logger, string tenant);

    [LoggerMessage(1510, LogLevel.Warning, "A get-or-create miss could not write its value to Redis in the background; the value is kept in this node's memory only.", EventName = "CacheBackgroundWriteFailed")]
    public static partial void BackgroundWriteFailed(ILogger logger, Exception exception);

    [LoggerMessage(1511, LogLevel.Warning, "{Count} background cache writes were still pending when the host stopped; they were abandoned.", EventName = "CacheBackgroundWritesAbandoned")]
    public static partial void BackgroundWritesAbandoned(ILogger logger, int count);
}
