namespace Coordination;

/// <summary>What happens when a lock is taken out of hierarchy order (<see cref="LockOptions.Level"/>).</summary>
public enum HierarchyViolationBehavior
{
    /// <summary>The acquisition fails with <see cref="LockHierarchyViolationException"/> before contacting Redis.</summary>
    Throw,

    /// <summary>A warning is logged and the lock is taken anyway.</summary>
    Log,
}
