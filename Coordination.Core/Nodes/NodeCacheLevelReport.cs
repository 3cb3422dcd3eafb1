namespace Coordination;

/// <summary>Lookups of one cache level.</summary>
public sealed class NodeCacheLevelReport
{
    /// <summary>Lookups that found a value.</summary>
    public long Hits { get; init; }

    /// <summary>Lookups that found none.</summary>
    public long Misses { get; init; }

    /// <summary>Hits over lookups, 0..1; <see langword="null"/> before the first lookup.</summary>
    public double? HitRatio { get; init; }
}
