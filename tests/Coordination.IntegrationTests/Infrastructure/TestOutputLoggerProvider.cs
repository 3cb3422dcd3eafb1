using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Writes a host's logs to the output of the test that created it (bounded, and silent once the test is over).</summary>
internal sealed class TestOutputLoggerProvider(ITestOutputHelper? output, string hostName) : ILoggerProvider
{
    private const int MaxLines = 400;
    private readonly long _started = Stopwatch.GetTimestamp();
    private int _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Write(string category, LogLevel level, string message, Exception? exception)
    {
        if (output is null || Interlocked.Increment(ref _lines) > MaxLines)
        {
            return;
        }

        var elapsed = Stopwatch.GetElapsedTime(_started).TotalSeconds;
        var shortCategory = category[(category.LastIndexOf('.') + 1)..];
        var line = FormattableString.Invariant($"[{elapsed,7:F3}s {hostName} {level} {shortCategory}] {message}");
        if (exception is not null)
        {
            line += " | " + exception.GetType().Name + ": " + exception.Message;
        }

        try
        {
            output.WriteLine(line);
        }
#pragma warning disable CA1031 // Background logging after the test ended must never fail the host.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private sealed class Logger(TestOutputLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        // The library's own events (connection, circuit, fallback) tell the story; Polly logs every failed attempt.
        public bool IsEnabled(LogLevel logLevel) =>
            logLevel >= (category.StartsWith("Coordination", StringComparison.Ordinal) ? LogLevel.Information
                : category.StartsWith("Polly", StringComparison.Ordinal) ? LogLevel.None
                : LogLevel.Error);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, formatter(state, exception), exception);
            }
        }
    }
}
