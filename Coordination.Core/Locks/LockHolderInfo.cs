namespace Coordination;

/// <summary>One holder of a lock, as <see cref="IDistributedLockManager.GetInfoAsync"/> saw it.</summary>
public sealed class LockHolderInfo
{
    internal LockHolderInfo(string owner, LockMode mode, long fencingToken, int count, DateTimeOffset expiresAt, TimeSpan timeToLive)
    {
        Owner = owner;
        Mode = mode;
        FencingToken = fencingToken;
        Count = count;
        ExpiresAt = expiresAt;
        TimeToLive = timeToLive;
    }

    /// <summary>The owner of the hold.</summary>
    public string Owner { get; }

    /// <summary>Whether the hold is exclusive or shared.</summary>
    public LockMode Mode { get; }

    /// <summary>The fencing token issued for the hold.</summary>
    public long FencingToken { get; }

    /// <summary>How many times the owner has entered the hold (re-entrancy).</summary>
    public int Count { get; }

    /// <summary>When the hold expires unless renewed (server time).</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>The time to live left when it was read.</summary>
    public TimeSpan TimeToLive { get; }
}
