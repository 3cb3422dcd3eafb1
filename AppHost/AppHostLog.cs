using Microsoft.Extensions.Logging;

namespace Coordination.AppHost;

/// <summary>The AppHost's own log events.</summary>
internal static partial class AppHostLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Hosting mode: {Mode} ({Reason})")]
    public static partial void HostingModeSelected(ILogger logger, HostingMode mode, string reason);
}
