namespace Coordination;

/// <summary>A node's PostgreSQL fallback: whether it serves, how much it served, and the mirror's backlog.</summary>
public sealed class NodeFallbackReport
{
    /// <summary>Whether a fallback store is configured.</summary>
    public bool Configured { get; init; }

    /// <summary>Whether it can serve.</summary>
    public bool Ready { get; init; }

    /// <summary>Whether key/value calls are served by it now (the fallback is engaged).</summary>
    public bool Active { get; init; }

    /// <summary>Key/value operations it served since the node started.</summary>
    public long Operations { get; init; }

    /// <summary>Writes waiting to be copied to PostgreSQL.</summary>
    public int MirrorBacklog { get; init; }

    /// <summary>Whether writes dropped from a full mirror queue still wait to be reconciled.</summary>
    public bool MirrorBehind { get; init; }

    /// <summary>Writes dropped from a full mirror queue since the node started.</summary>
    public long MirrorDroppedWrites { get; init; }
}
