using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Coordination.IntegrationTests.Alerts;

/// <summary>Keeps the event ids (and messages) a host logged, so a test can check that something was logged.</summary>
internal sealed class AlertLogCapture : ILoggerProvider
{
    public ConcurrentQueue<(int EventId, LogLevel Level, string Message)> Entries { get; } = new();

    public int Count(int eventId) => Entries.Count(e => e.EventId == eventId);

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(AlertLogCapture capture) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Entries.Enqueue((eventId.Id, logLevel, formatter(state, exception)));
    }
}
