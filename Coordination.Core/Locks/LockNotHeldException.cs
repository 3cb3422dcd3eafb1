namespace Coordination;

/// <summary>A token was used to extend or release a lock it does not hold (never, no longer, or someone else's). Nothing changed.</summary>
public sealed class LockNotHeldException : CoordinationException
{
    internal LockNotHeldException(string message, string name)
        : base(message)
    {
        Name = name;
    }

    /// <summary>The lock name.</summary>
    public string Name { get; }
}
