namespace Coordination;

/// <summary>The options of one acquisition, validated and with the defaults filled in.</summary>
internal readonly record struct LockSettings(
    TimeSpan TimeToLive,
    TimeSpan WaitTimeout,
    bool AutoRenew,
    bool Fair,
    string? Owner,
    int? Level,
    int ReplicasToAcknowledge,
    string? ReentryToken = null)
{
    public bool Waits => WaitTimeout != TimeSpan.Zero;
}
