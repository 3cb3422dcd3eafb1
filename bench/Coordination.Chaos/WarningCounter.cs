using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Coordination.Chaos;

/// <summary>
/// A logger provider for the library nodes that prints nothing and counts warnings and errors by event name (thousands a
/// second during a fault would cost more than the calls); the first message of each is kept for the notes.
/// </summary>
internal sealed class WarningCounter : ILoggerProvider
{
    private readonly ConcurrentDictionary<string, (long Count, string First)> _events = new(StringComparer.Ordinal);

    /// <summary>Takes the counts so far and starts again (one scenario's worth).</summary>
    public IReadOnlyList<string> Drain()
    {
        var lines = new List<string>();
        foreach (var key in _events.Keys.Order(StringComparer.Ordinal))
        {
            if (_events.TryRemove(key, out var entry))
            {
                lines.Add($"{key} ×{entry.Count} (first: {entry.First})");
            }
        }

        return lines;
    }

    public ILogger CreateLogger(string categoryName) => new Counter(this);

    public void Dispose()
    {
    }

    private sealed class Counter(WarningCounter owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            var name = $"{logLevel} {eventId.Name ?? eventId.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
            owner._events.AddOrUpdate(
                name,
                _ => (1, Truncate(formatter(state, exception) + (exception is null ? string.Empty : $" ({exception.GetType().Name}: {exception.Message})"))),
                (_, entry) => (entry.Count + 1, entry.First));
        }

        private static string Truncate(string text) => text.Length <= 200 ? text : text[..200] + "…";
    }
}
