namespace Coordination;

/// <summary>A node's cache lookups per level since it started.</summary>
public sealed class NodeCacheReport
{
    /// <summary>The memory level (L1).</summary>
    public NodeCacheLevelReport Memory { get; init; } = new();

    /// <summary>The Redis level (L2).</summary>
    public NodeCacheLevelReport Redis { get; init; } = new();
}
