namespace Coordination;

/// <summary>Which bound on waiters refused a wait (<see cref="LockWaitersExceededException.Limit"/>).</summary>
public enum LockWaiterLimit
{
    /// <summary>The tenant already has <see cref="LockManagerOptions.MaxWaitersPerTenant"/> waiters, across all its locks.</summary>
    Tenant,

    /// <summary>The lock already has <see cref="LockManagerOptions.MaxWaitersPerLock"/> waiters.</summary>
    Lock,
}
