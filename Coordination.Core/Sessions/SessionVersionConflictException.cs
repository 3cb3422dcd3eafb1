namespace Coordination;

/// <summary>An update named an expected version the session no longer has; nothing was changed.</summary>
public sealed class SessionVersionConflictException : CoordinationException
{
    internal SessionVersionConflictException(string message, long expectedVersion, long actualVersion)
        : base(message)
    {
        ExpectedVersion = expectedVersion;
        ActualVersion = actualVersion;
    }

    /// <summary>The version the caller expected.</summary>
    public long ExpectedVersion { get; }

    /// <summary>The session's version when the update was refused.</summary>
    public long ActualVersion { get; }
}
