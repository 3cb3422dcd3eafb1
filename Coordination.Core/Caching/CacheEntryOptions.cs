namespace Coordination;

/// <summary>
/// Settings of one cache entry. Every unset property takes its default from <see cref="CacheOptions"/>. Immutable
/// once built (use <c>with</c> for a variant), so one instance can be shared between calls and threads: the cache
/// validates and resolves it once, on first use.
/// </summary>
public sealed record CacheEntryOptions
{
    private readonly IReadOnlyList<string>? _tags;

    /// <summary>Gets how long the entry is fresh (1 ms to 30 days).</summary>
    public TimeSpan? TimeToLive { get; init; }

    /// <summary>Gets the largest random extra time added to <see cref="TimeToLive"/>.</summary>
    public TimeSpan? Jitter { get; init; }

    /// <summary>
    /// Gets the tags of the entry (at most <see cref="CacheOptions.MaxTagsPerEntry"/>);
    /// <see cref="ICacheManager.InvalidateTagsAsync"/> invalidates all entries of a tag at once.
    /// </summary>
    public IReadOnlyList<string>? Tags
    {
        get => _tags;
        init => _tags = value is null ? null : [.. value]; // A copy: the caller's list may change afterwards.
    }

    /// <summary>Gets how long the entry stays in the memory level; <see cref="TimeSpan.Zero"/> keeps it out of memory.</summary>
    public TimeSpan? MemoryTimeToLive { get; init; }

    /// <summary>Gets the codec used when the value is at or above the compression threshold.</summary>
    public CacheCompression? Compression { get; init; }

    /// <summary>Gets how long after its time to live the entry may be served stale on failure.</summary>
    public TimeSpan? FailSafeWindow { get; init; }

    /// <summary>Gets the fraction of the time to live after which a hit refreshes the entry in the background.</summary>
    public double? EagerRefreshThreshold { get; init; }

    /// <summary>Gets the factory's soft timeout (applies when a stale value exists).</summary>
    public TimeSpan? FactorySoftTimeout { get; init; }

    /// <summary>Gets the factory's hard timeout.</summary>
    public TimeSpan? FactoryHardTimeout { get; init; }

    /// <summary>Gets whether a miss takes a distributed lock before calling the factory.</summary>
    public bool? DistributedSingleFlight { get; init; }

    /// <summary>
    /// Gets a sliding expiration: every read through the <c>IDistributedCache</c> adapter restarts the time to
    /// live from this duration. Used for ASP.NET Core sessions.
    /// </summary>
    public TimeSpan? SlidingExpiration { get; init; }
}
