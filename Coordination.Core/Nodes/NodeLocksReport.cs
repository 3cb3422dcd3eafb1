namespace Coordination;

/// <summary>The locks a node holds through handles (its own and its callers').</summary>
public sealed class NodeLocksReport
{
    /// <summary>Holds (re-entries count once).</summary>
    public int Held { get; init; }

    /// <summary>How long the oldest hold has been held, in milliseconds; <see langword="null"/> when none is held.</summary>
    public long? OldestHeldMs { get; init; }
}
