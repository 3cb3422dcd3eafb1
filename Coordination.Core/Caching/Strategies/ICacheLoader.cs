namespace Coordination;

/// <summary>
/// Loads the value of a key from the system of record (a database, a service) for read-through, refresh-ahead and
/// warming. Register it for a key prefix with <c>WithReadThrough</c>; <see cref="IBackedCache"/> calls it on a miss,
/// once per key at a time in the process (the cache's single-flight).
/// </summary>
/// <typeparam name="T">The type of the values.</typeparam>
/// <remarks>
/// Implementations must be thread-safe: different keys are loaded concurrently. Whatever the loader returns is cached,
/// <see langword="null"/> included (negative caching: a missing row is not queried again until the entry expires).
/// An exception is not cached; it reaches the caller unless fail-safe serves a stale value.
/// </remarks>
public interface ICacheLoader<T>
{
    /// <summary>Loads the current value of <paramref name="key"/>.</summary>
    /// <param name="key">The full cache key (prefix included).</param>
    /// <param name="cancellationToken">Canceled only at shutdown: a caller that stops waiting leaves the load running for the others.</param>
    /// <returns>The value to cache.</returns>
    ValueTask<T> LoadAsync(string key, CancellationToken cancellationToken);
}
