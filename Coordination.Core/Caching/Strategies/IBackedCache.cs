namespace Coordination;

/// <summary>
/// The default tenant's <see cref="ICacheManager"/> in front of a system of record, with the strategies registered by
/// key prefix through <c>WithReadThrough</c>, <c>WithWriteThrough</c> and <c>WithWriteBehind</c>. The longest
/// registered prefix of a key decides its loader and its writer; keys under no prefix behave as plain cache calls.
/// Thread-safe; resolve it from dependency injection.
/// </summary>
/// <remarks>
/// <para><b>Read-through</b>: <see cref="GetAsync{T}"/> of a key that misses calls the prefix's
/// <see cref="ICacheLoader{T}"/> through <see cref="ICacheManager.GetOrCreateAsync{T}"/>, so concurrent misses of one
/// key load it once, and fail-safe, timeouts and early refresh apply.</para>
/// <para><b>Refresh-ahead</b>: give the read-through registration's entry options an
/// <see cref="CacheEntryOptions.EagerRefreshThreshold"/>; a hit past that fraction of the time to live reloads the
/// entry in the background while the current value is served. Hot keys are also reloaded without a hit by the cache
/// warming service (<c>WithCacheWarming</c>).</para>
/// <para><b>Write-through</b>: <see cref="SetAsync{T}"/> calls the prefix's <see cref="ICacheWriter{T}"/> first and
/// updates the cache only when it succeeded.</para>
/// <para><b>Write-behind</b>: <see cref="SetAsync{T}"/> queues the write (waiting while the bounded queue is full),
/// updates the cache and returns; the queue is written in batches, retried with backoff while the writer fails, and
/// flushed when the host stops.</para>
/// </remarks>
public interface IBackedCache
{
    /// <summary>The cache the strategies read and write (the default tenant's).</summary>
    ICacheManager Cache { get; }

    /// <summary>Writes acknowledged by write-behind and not yet written by the writer, over all prefixes.</summary>
    long PendingWrites { get; }

    /// <summary>
    /// Reads <paramref name="key"/>; on a miss, loads it with the loader registered for its prefix and caches it
    /// (read-through). Without a loader for the key, this is <see cref="ICacheManager.GetAsync{T}"/>.
    /// </summary>
    /// <typeparam name="T">The type of the value; must be the loader's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels this caller's wait (not the load, which other callers may share).</param>
    /// <returns>The value with its source (<see cref="CacheSource.Factory"/> when the loader produced it).</returns>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="InvalidOperationException">The loader of the key's prefix loads another type than <typeparamref name="T"/>.</exception>
    /// <remarks>The loader's exception propagates when there is no stale value to serve (see <see cref="ICacheManager.GetOrCreateAsync{T}"/>).</remarks>
    ValueTask<CacheResult<T>> GetAsync<T>(string key, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes <paramref name="value"/> with the strategy of the key's prefix: write-through (the writer, then the
    /// cache), write-behind (queued, then the cache) or, without a writer, <see cref="ICacheManager.SetAsync{T}"/>.
    /// </summary>
    /// <typeparam name="T">The type of the value; must be the writer's type.</typeparam>
    /// <param name="key">The key.</param>
    /// <param name="value">The value.</param>
    /// <param name="cancellationToken">Cancels the writer call (write-through) or the wait for room in the queue (write-behind).</param>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="InvalidOperationException">
    /// The writer of the key's prefix writes another type than <typeparamref name="T"/>, or the write-behind queue is
    /// stopped (the host is shutting down).
    /// </exception>
    /// <exception cref="CoordinationUnavailableException">
    /// Redis is unavailable. The write is already in the system of record (write-through) or queued for it
    /// (write-behind); this node's memory level has the value, Redis may keep the previous one until it expires.
    /// </exception>
    /// <remarks>A write-through writer's exception propagates and the cache is left unchanged.</remarks>
    ValueTask SetAsync<T>(string key, T value, CancellationToken cancellationToken = default);

    /// <summary>
    /// Loads <paramref name="key"/> with the loader of its prefix and writes the result to the cache, whatever the cache
    /// holds (warming, refresh before expiry).
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="cancellationToken">Cancels the load and the write.</param>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="InvalidOperationException">No loader is registered for the key's prefix.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask RefreshAsync(string key, CancellationToken cancellationToken = default);

    /// <summary>Whether a loader is registered for the prefix of <paramref name="key"/>.</summary>
    /// <param name="key">The key.</param>
    /// <returns><see langword="true"/> when <see cref="RefreshAsync"/> can load the key.</returns>
    bool HasLoader(string key);

    /// <summary>Returns once every write acknowledged by write-behind before the call is written by its writer.</summary>
    /// <param name="cancellationToken">Stops waiting (the writes stay queued).</param>
    /// <remarks>While a writer fails, this waits for its retries to succeed.</remarks>
    ValueTask FlushAsync(CancellationToken cancellationToken = default);
}
