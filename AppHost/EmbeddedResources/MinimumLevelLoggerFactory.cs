using Microsoft.Extensions.Logging;

namespace Coordination.AppHost.EmbeddedResources;

/// <summary>
/// Hands Garnet loggers of the AppHost's factory that let only <paramref name="minimum"/> and above through: Garnet
/// logs its whole configuration at Information under a dozen categories of its own, which would bury the AppHost's
/// console.
/// </summary>
/// <param name="inner">The AppHost's logger factory (not owned: disposing this one leaves it alone).</param>
/// <param name="minimum">The lowest level passed on.</param>
internal sealed class MinimumLevelLoggerFactory(ILoggerFactory inner, LogLevel minimum) : ILoggerFactory
{
    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new Filtered(inner.CreateLogger(categoryName), minimum);

    /// <inheritdoc/>
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("Add providers to the AppHost's own logging.");

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private sealed class Filtered(ILogger logger, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => logger.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logger.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                logger.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
