namespace Coordination;

/// <summary>One pooled connection of a node and its load.</summary>
public sealed class NodeConnectionReport
{
    /// <summary>The pool's number for the connection.</summary>
    public int Id { get; init; }

    /// <summary>Whether it is connected.</summary>
    public bool Connected { get; init; }

    /// <summary>Operations in flight on it (its load).</summary>
    public int Outstanding { get; init; }

    /// <summary>Operations it has carried.</summary>
    public long Operations { get; init; }

    /// <summary>Operations that failed on it.</summary>
    public long Failures { get; init; }

    /// <summary>The round trip of its last successful heartbeat, in milliseconds.</summary>
    public double? LastPingMs { get; init; }
}
