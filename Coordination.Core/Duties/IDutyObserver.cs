namespace Coordination;

/// <summary>
/// Told about every finished run of a duty on this node (for example to raise an alert while a duty fails). Register
/// implementations as singletons of <see cref="IDutyObserver"/>; every registered observer is called. The default
/// registration does nothing.
/// </summary>
/// <remarks>Called on the duty's own loop after the run is recorded: return quickly and do not throw (an exception is logged and ignored).</remarks>
public interface IDutyObserver
{
    /// <summary>A run of a duty succeeded.</summary>
    /// <param name="run">What was recorded for the run.</param>
    void OnDutySucceeded(DutyRun run);

    /// <summary>A run of a duty failed (an exception, a timeout or the loss of the duty's lock).</summary>
    /// <param name="run">What was recorded for the run; <see cref="DutyRun.Error"/> says why.</param>
    void OnDutyFailed(DutyRun run);
}
