namespace Coordination;

/// <summary>
/// A two-level cache for one tenant: memory (L1, per process, bounded) in front of Redis (L2, shared). Thread-safe;
/// resolve it from dependency injection or as <see cref="IRedisCoordinator.Cache"/> for any tenant.
/// </summary>
/// <remarks>
/// <para>Entries are stored as <c>{prefix}:{tenant}:cache:{key}</c>; keys are 1..512 UTF-8 bytes without control
/// characters. A write or invalidation on any node evicts the key from every node's memory level through a pub/sub
/// backplane; a node that missed messages replays them from a bounded invalidation log, or clears its memory level
/// when the log no longer reaches back that far.</para>
/// <para>Tag and prefix invalidations are O(1) for the caller: they stamp the tag (or prefix) with the Redis clock,
/// and a read ignores entries created before the stamp. Values are serialized with the configured
/// <see cref="ICoordinationSerializer"/> (<see cref="byte"/> arrays are stored as they are).</para>
/// </remarks>
public interface ICacheManager
{
    /// <summary>The tenant whose entries this cache reads and writes.</summary>
    string Tenant { get; }

    /// <summary>Reads <paramref name="key"/>: memory first, then Redis. An expired entry is not returned.</summary>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="CoordinationSerializationException">The stored value is not a <typeparamref name="T"/>.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable and the key is not in memory.</exception>
    ValueTask<CacheResult<T>> GetAsync<T>(string key, CancellationToken cancellationToken = default);

    /// <summary>Writes <paramref name="value"/> to both levels and evicts the key from every other node's memory level.</summary>
    /// <exception cref="ArgumentException">The key, a tag or an option is invalid, or there are more tags than <see cref="CacheOptions.MaxTagsPerEntry"/>.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable (the value is kept in this node's memory level).</exception>
    ValueTask SetAsync<T>(string key, T value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Returns the cached value of <paramref name="key"/>, or calls <paramref name="factory"/> once per key at a time in
    /// this process (and across nodes with <see cref="CacheEntryOptions.DistributedSingleFlight"/>), caches and returns
    /// its result. Hits may refresh the entry in the background before it expires (eager and XFetch refresh).
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="factory">Computes the value. Its token is canceled only at shutdown: callers that give up leave it running for the others.</param>
    /// <param name="options">Entry settings; <see langword="null"/> uses the defaults.</param>
    /// <param name="cancellationToken">Cancels this caller's wait.</param>
    /// <returns>The value with its source; stale (fail-safe) when the factory or Redis failed and a last good value exists.</returns>
    /// <exception cref="ArgumentException">The key, a tag or an option is invalid.</exception>
    /// <exception cref="CacheFactoryTimeoutException">The factory passed its hard timeout and there is no stale value.</exception>
    /// <remarks>The factory's own exception is rethrown when there is no stale value to serve.</remarks>
    ValueTask<CacheResult<T>> GetOrCreateAsync<T>(
        string key,
        Func<CancellationToken, ValueTask<T>> factory,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default);

    /// <summary>Removes <paramref name="key"/> from Redis and from every node's memory level.</summary>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable (the key is evicted from this node's memory only).</exception>
    ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Invalidates every entry that carries one of <paramref name="tags"/>, on every node, in one round trip.</summary>
    /// <remarks>
    /// A tenant keeps at most <see cref="CacheOptions.MaxStampsPerTenant"/> tag and prefix stamps; beyond it the oldest
    /// are folded into a floor that invalidates all of the tenant's entries created before them, so an invalidated
    /// entry never becomes valid again, and a tenant that invalidates many distinct names loses older entries early.
    /// </remarks>
    /// <exception cref="ArgumentException">A tag is invalid, or there are more than <see cref="CacheOptions.MaxTagsPerInvalidation"/>.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask InvalidateTagsAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default);

    /// <summary>Invalidates every entry whose key starts with <paramref name="prefix"/>, on every node, without scanning Redis.</summary>
    /// <remarks>Bounded as <see cref="InvalidateTagsAsync"/> is: prefixes count towards <see cref="CacheOptions.MaxStampsPerTenant"/>.</remarks>
    /// <exception cref="ArgumentException">The prefix is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask InvalidateByPrefixAsync(string prefix, CancellationToken cancellationToken = default);
}
