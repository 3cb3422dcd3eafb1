namespace Coordination;

/// <summary>Describes a lock this process lost while holding it (<see cref="ICoordinationEvents.LockLost"/>).</summary>
public sealed class LockLostEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public LockLostEventArgs(string tenant, string name, string owner, long fencingToken, LockLostReason reason)
    {
        Tenant = tenant;
        Name = name;
        Owner = owner;
        FencingToken = fencingToken;
        Reason = reason;
    }

    /// <summary>The tenant of the lock.</summary>
    public string Tenant { get; }

    /// <summary>The lock name.</summary>
    public string Name { get; }

    /// <summary>The owner that held it.</summary>
    public string Owner { get; }

    /// <summary>The fencing token of the lost hold: the protected resource should refuse it from now on.</summary>
    public long FencingToken { get; }

    /// <summary>Why the hold is known to be lost.</summary>
    public LockLostReason Reason { get; }
}
