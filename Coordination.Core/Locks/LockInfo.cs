namespace Coordination;

/// <summary>Who holds a lock, as <see cref="IDistributedLockManager.GetInfoAsync"/> saw it (tokens are never shown).</summary>
public sealed class LockInfo
{
    internal LockInfo(string name, IReadOnlyList<LockHolderInfo> holders, int waiters, long lastFencingToken)
    {
        Name = name;
        Holders = holders;
        Waiters = waiters;
        LastFencingToken = lastFencingToken;
    }

    /// <summary>The lock name.</summary>
    public string Name { get; }

    /// <summary>The live holds: one exclusive hold, or any number of shared ones.</summary>
    public IReadOnlyList<LockHolderInfo> Holders { get; }

    /// <summary><see cref="LockMode.Exclusive"/> when a writer holds the lock, <see cref="LockMode.Shared"/> when readers do.</summary>
    public LockMode Mode => Holders.Any(h => h.Mode == LockMode.Exclusive) ? LockMode.Exclusive : LockMode.Shared;

    /// <summary>The owner of the exclusive hold; the first reader's for a shared lock.</summary>
    public string Owner => Exclusive.Owner;

    /// <summary>The fencing token of the exclusive hold; the first reader's for a shared lock.</summary>
    public long FencingToken => Exclusive.FencingToken;

    /// <summary>When the lock is free at the latest, unless renewed (server time).</summary>
    public DateTimeOffset ExpiresAt => Holders.Max(h => h.ExpiresAt);

    /// <summary>The time to live left on the longest hold when it was read.</summary>
    public TimeSpan TimeToLive => Holders.Max(h => h.TimeToLive);

    /// <summary>Callers waiting for the lock (across processes).</summary>
    public int Waiters { get; }

    /// <summary>The last fencing token Redis issued for the name (the next hold gets a greater one).</summary>
    public long LastFencingToken { get; }

    private LockHolderInfo Exclusive => Holders.FirstOrDefault(h => h.Mode == LockMode.Exclusive) ?? Holders[0];
}
