namespace Coordination;

/// <summary>
/// Settings of one cache entry. Every unset property takes its default from <see cref="CacheOptions"/>. Build an
/// instance once and share it between calls: the cache validates and resolves it on first use and keeps the result,
/// so changes made to an instance after it was used are not seen.
/// </summary>
public sealed class CacheEntryOptions
{
    /// <summary>Gets or sets how long the entry is fresh (1 ms to 30 days).</summary>
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>Gets or sets the largest random extra time added to <see cref="TimeToLive"/>.</summary>
    public TimeSpan? Jitter { get; set; }

    /// <summary>Gets or sets the tags of the entry; <see cref="ICacheManager.InvalidateTagsAsync"/> invalidates all entries of a tag at once.</summary>
    public IReadOnlyList<string>? Tags { get; set; }

    /// <summary>Gets or sets how long the entry stays in the memory level; <see cref="TimeSpan.Zero"/> keeps it out of memory.</summary>
    public TimeSpan? MemoryTimeToLive { get; set; }

    /// <summary>Gets or sets the codec used when the value is at or above the compression threshold.</summary>
    public CacheCompression? Compression { get; set; }

    /// <summary>Gets or sets how long after its time to live the entry may be served stale on failure.</summary>
    public TimeSpan? FailSafeWindow { get; set; }

    /// <summary>Gets or sets the fraction of the time to live after which a hit refreshes the entry in the background.</summary>
    public double? EagerRefreshThreshold { get; set; }

    /// <summary>Gets or sets the factory's soft timeout (applies when a stale value exists).</summary>
    public TimeSpan? FactorySoftTimeout { get; set; }

    /// <summary>Gets or sets the factory's hard timeout.</summary>
    public TimeSpan? FactoryHardTimeout { get; set; }

    /// <summary>Gets or sets whether a miss takes a distributed lock before calling the factory.</summary>
    public bool? DistributedSingleFlight { get; set; }

    /// <summary>
    /// Gets or sets a sliding expiration: every read through the <c>IDistributedCache</c> adapter restarts the time to
    /// live from this duration. Used for ASP.NET Core sessions.
    /// </summary>
    public TimeSpan? SlidingExpiration { get; set; }
}
