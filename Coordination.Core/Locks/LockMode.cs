namespace Coordination;

/// <summary>How a hold shares its lock.</summary>
public enum LockMode
{
    /// <summary>An exclusive lock, or the write side of a read/write lock: no other holder.</summary>
    Exclusive,

    /// <summary>The read side of a read/write lock: shared with other readers.</summary>
    Shared,
}
