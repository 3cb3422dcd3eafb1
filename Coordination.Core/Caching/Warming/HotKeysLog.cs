using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of hot-key reports and warm-on-start (EventId 1875-1889; names are frozen once shipped).</summary>
internal static partial class HotKeysLog
{
    [LoggerMessage(1875, LogLevel.Debug, "Reported the hot keys of {Tenants} tenants ({Keys} keys).", EventName = "HotKeysReported")]
    public static partial void Reported(ILogger logger, int tenants, long keys);

    [LoggerMessage(1876, LogLevel.Debug, "The hot keys of tenant '{Tenant}' were not recorded: Redis lists Coordination:Cache:HotKeys:MaxTenants tenants already.", EventName = "HotKeysTenantRefused")]
    public static partial void TenantRefused(ILogger logger, string tenant);

    [LoggerMessage(1877, LogLevel.Warning, "Reporting hot keys failed; the counts of this interval are dropped and the next interval reports again.", EventName = "HotKeysReportFailed")]
    public static partial void ReportFailed(ILogger logger, Exception exception);

    [LoggerMessage(1878, LogLevel.Information, "Warmed {Keys} hot keys of {Tenants} tenants into the memory level in {ElapsedMs} ms, before serving.", EventName = "HotKeysWarmed")]
    public static partial void Warmed(ILogger logger, int keys, int tenants, long elapsedMs);

    [LoggerMessage(1879, LogLevel.Warning, "Warming hot keys at start took longer than Coordination:Cache:HotKeys:WarmTimeout ({Timeout}); the node starts with the {Keys} keys warmed so far.", EventName = "HotKeysWarmTimedOut")]
    public static partial void WarmTimedOut(ILogger logger, TimeSpan timeout, int keys);

    [LoggerMessage(1880, LogLevel.Warning, "Warming hot keys at start failed; the node starts with a cold memory level.", EventName = "HotKeysWarmFailed")]
    public static partial void WarmFailed(ILogger logger, Exception exception);
}
