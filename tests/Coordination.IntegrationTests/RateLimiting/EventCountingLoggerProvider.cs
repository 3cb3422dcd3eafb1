using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>Counts a host's log events by event name (the rate-limit tests check that an outage is logged once, not per call).</summary>
internal sealed class EventCountingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);

    public int CountOf(string eventName) => _counts.GetValueOrDefault(eventName);

    public ILogger CreateLogger(string categoryName) => new Counter(this);

    public void Dispose()
    {
    }

    private sealed class Counter(EventCountingLoggerProvider provider) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (eventId.Name is { } name)
            {
                provider._counts.AddOrUpdate(name, 1, static (_, count) => count + 1);
            }
        }
    }
}
