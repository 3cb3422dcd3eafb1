namespace Coordination;

/// <summary>
/// A periodic job of the platform that must run on one node at a time (session cleanup, the fallback store's purge,
/// alert evaluation). Register it with <c>WithDuty</c>; the duty scheduler runs it every
/// <see cref="DutyOptions.Interval"/> on whichever node holds the duty's lock, records its state in Redis and counts
/// its runs.
/// </summary>
/// <remarks>
/// An exception fails the run: it is logged, counted and recorded (its type, never its message, which may carry keys
/// or tenant data), and the duty runs again at its next time. Nothing a duty throws stops the host.
/// </remarks>
public interface IDuty
{
    /// <summary>Runs the duty once.</summary>
    /// <param name="cancellationToken">Canceled at shutdown, when the run exceeds <see cref="DutyOptions.Timeout"/>, or when this node loses the duty's lock.</param>
    /// <returns>A task that completes when the run is done.</returns>
    Task RunAsync(CancellationToken cancellationToken);
}
