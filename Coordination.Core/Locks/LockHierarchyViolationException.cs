namespace Coordination;

/// <summary>
/// A lock was requested at a level that is not above every level its owner already holds
/// (<see cref="LockOptions.Level"/>). Nothing was sent to Redis.
/// </summary>
public sealed class LockHierarchyViolationException : CoordinationException
{
    internal LockHierarchyViolationException(string message, string name, int level, string heldName, int heldLevel)
        : base(message)
    {
        Name = name;
        Level = level;
        HeldName = heldName;
        HeldLevel = heldLevel;
    }

    /// <summary>The lock requested.</summary>
    public string Name { get; }

    /// <summary>Its level.</summary>
    public int Level { get; }

    /// <summary>A lock the owner holds at the same or a higher level.</summary>
    public string HeldName { get; }

    /// <summary>That lock's level.</summary>
    public int HeldLevel { get; }
}
