namespace Coordination;

/// <summary>Where a cache read found its value.</summary>
public enum CacheSource
{
    /// <summary>No value was found.</summary>
    None = 0,

    /// <summary>The in-memory level (L1) of this process.</summary>
    Memory = 1,

    /// <summary>The Redis level (L2).</summary>
    Redis = 2,

    /// <summary>The factory of <see cref="ICacheManager.GetOrCreateAsync{T}"/> produced it.</summary>
    Factory = 3,
}
