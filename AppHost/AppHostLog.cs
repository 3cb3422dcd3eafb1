using Microsoft.Extensions.Logging;

namespace Coordination.AppHost;

/// <summary>The AppHost's own log events.</summary>
internal static partial class AppHostLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Hosting mode: {Mode}, PostgreSQL: {Postgres} ({Reason})")]
    public static partial void HostingModeSelected(ILogger logger, HostingMode mode, PostgresHosting postgres, string reason);

    [LoggerMessage(EventId = 1890, Level = LogLevel.Warning, Message = "Redis is served by {Server}, not by Redis: {Limitations}.", EventName = "EmbeddedRedis")]
    public static partial void EmbeddedRedis(ILogger logger, string server, string limitations);

    [LoggerMessage(EventId = 1891, Level = LogLevel.Warning, Message = "No PostgreSQL: {Consequence}. Install PostgreSQL (Debian: apt-get install postgresql) or a container runtime to have the fallback.", EventName = "NoPostgresFallback")]
    public static partial void NoPostgresFallback(ILogger logger, string consequence);

    [LoggerMessage(EventId = 1892, Level = LogLevel.Information, Message = "Serving Redis on {Address}:{Port}: {Server}.", EventName = "EmbeddedRedisStarted")]
    public static partial void EmbeddedRedisStarted(ILogger logger, string address, int port, string server);

    [LoggerMessage(EventId = 1893, Level = LogLevel.Error, Message = "Garnet could not start on {Address}:{Port}.", EventName = "EmbeddedRedisFailed")]
    public static partial void EmbeddedRedisFailed(ILogger logger, string address, int port, Exception exception);
}
