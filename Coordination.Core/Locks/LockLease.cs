namespace Coordination;

/// <summary>
/// A lock taken for a holder outside this process (<see cref="IDistributedLockManager.TryAcquireLeaseAsync"/>):
/// nothing here renews or releases it; its holder does, by token.
/// </summary>
public sealed class LockLease
{
    internal LockLease(string name, string token, string owner, long fencingToken, DateTimeOffset expiresAt, int count)
    {
        Name = name;
        Token = token;
        Owner = owner;
        FencingToken = fencingToken;
        ExpiresAt = expiresAt;
        Count = count;
    }

    /// <summary>The lock name.</summary>
    public string Name { get; }

    /// <summary>The hold's secret token (extends and releases it).</summary>
    public string Token { get; }

    /// <summary>The owner the lease was taken for.</summary>
    public string Owner { get; }

    /// <summary>The fencing token: strictly greater than any issued before for the name.</summary>
    public long FencingToken { get; }

    /// <summary>When the lease expires unless extended (server time).</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>How many times the owner holds the lease now (above 1 after re-entry by the same named owner).</summary>
    public int Count { get; }
}
