namespace Coordination;

/// <summary>The default <see cref="IDutyObserver"/>: does nothing.</summary>
internal sealed class NullDutyObserver : IDutyObserver
{
    public void OnDutySucceeded(DutyRun run)
    {
    }

    public void OnDutyFailed(DutyRun run)
    {
    }
}
