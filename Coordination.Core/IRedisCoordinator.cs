namespace Coordination;

/// <summary>
/// Key/value storage and simple exclusive locks on Redis for one tenant. Thread-safe; resolve it from dependency
/// injection (<see cref="ICoordinatorFactory"/> gives one per tenant).
/// </summary>
/// <remarks>
/// Keys are 1..512 UTF-8 bytes without control characters and are stored as <c>{prefix}:{tenant}:kv:{key}</c>
/// (locks as <c>{prefix}:{tenant}:lock:{{key}}</c> and companion keys in the same hash slot). While Redis is unavailable and the PostgreSQL fallback is
/// configured, <see cref="GetAsync{T}"/>, the writes are served
/// from PostgreSQL and replayed to Redis when it returns; lock calls fail closed with
/// <see cref="CoordinationUnavailableException"/>.
/// </remarks>
public interface IRedisCoordinator
{
    /// <summary>The tenant whose namespace this coordinator reads and writes.</summary>
    string Tenant { get; }

    /// <summary>
    /// The tenant's distributed locks: exclusive, read/write and semaphores, with handles, waiting, renewal,
    /// fencing, re-entrancy, deadlock detection and hierarchy. <see cref="LockAsync"/> and <see cref="UnlockAsync"/>
    /// are a simple front to the same locks (this coordinator is their owner).
    /// </summary>
    IDistributedLockManager Locks { get; }

    /// <summary>
    /// The tenant's two-level cache (memory, then Redis under <c>{prefix}:{tenant}:cache:{key}</c>) with backplane
    /// invalidation, tags, single-flight, fail-safe and compression; settings from <see cref="CoordinationOptions.Cache"/>.
    /// </summary>
    ICacheManager Cache { get; }

    /// <summary>
    /// The tenant's distributed sessions (<c>{prefix}:{tenant}:session:...</c>): create, read with sliding expiry,
    /// versioned merge updates, rotation, and listing and revoking a user's sessions; settings from
    /// <see cref="CoordinationOptions.Sessions"/>.
    /// </summary>
    ISessionManager Sessions { get; }

    /// <summary>
    /// The tenant's rate limiter (<c>{prefix}:{tenant}:ratelimit:...</c>): fixed and sliding windows, sliding log, token
    /// bucket, GCRA and concurrency leases, each decision one atomic script on Redis's clock, under the platform's
    /// policies (<see cref="IRateLimitPolicies"/>) and this tenant's overrides of them.
    /// </summary>
    IRateLimitService RateLimits { get; }

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing any value it had.</summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value; serialized with the configured <see cref="ICoordinationSerializer"/>.</param>
    /// <param name="timeToLive">When the key expires; <see langword="null"/> keeps it until deleted. 1 ms to 30 days.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer (the write may still happen).</param>
    /// <exception cref="ArgumentException">The key or TTL is invalid, or the serialized value is larger than <see cref="CoordinationOptions.MaxValueBytes"/>.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable and no fallback is configured.</exception>
#pragma warning disable RS0027 // Shipped with its optional parameters, which existing calls rely on; the overload with durability has none, so no call is ambiguous.
    ValueTask SetAsync<T>(string key, T value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);
#pragma warning restore RS0027

    /// <summary>
    /// Stores <paramref name="value"/> under <paramref name="key"/> with the durability asked for, instead of
    /// <see cref="FallbackOptions.Durability"/>: with <see cref="KeyValueDurability.Synchronous"/> the call returns only
    /// after PostgreSQL committed the write's copy, so it survives Redis losing its data.
    /// </summary>
    /// <param name="key">The key.</param>
    /// <param name="value">The value; serialized with the configured <see cref="ICoordinationSerializer"/>.</param>
    /// <param name="timeToLive">When the key expires; <see langword="null"/> keeps it until deleted. 1 ms to 30 days.</param>
    /// <param name="durability">When the write is acknowledged.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer (the write may still happen).</param>
    /// <exception cref="ArgumentException">The key, TTL or durability is invalid, or the serialized value is larger than <see cref="CoordinationOptions.MaxValueBytes"/>.</exception>
    /// <exception cref="CoordinationUnavailableException">
    /// Redis is unavailable and no fallback is configured; or, for a synchronous write, no fallback store is configured
    /// or PostgreSQL did not commit in time (<see cref="UnavailableReason.DurableCopyNotConfirmed"/>).
    /// </exception>
    ValueTask SetAsync<T>(string key, T value, TimeSpan? timeToLive, KeyValueDurability durability, CancellationToken cancellationToken);

    /// <summary>Reads the value under <paramref name="key"/>.</summary>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="CoordinationSerializationException">The stored value is not a <typeparamref name="T"/>.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable and no fallback is configured.</exception>
    ValueTask<CoordinationValue<T>> GetAsync<T>(string key, CancellationToken cancellationToken = default);

    /// <summary>Reads the value under <paramref name="key"/> together with its remaining time to live, atomically.</summary>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="CoordinationSerializationException">The stored value is not a <typeparamref name="T"/>.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable and no fallback is configured.</exception>
    ValueTask<CoordinationValue<T>> GetWithTimeToLiveAsync<T>(string key, CancellationToken cancellationToken = default);

    /// <summary>Deletes <paramref name="key"/>. Returns whether it existed (always <see langword="true"/> when served by the fallback).</summary>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable and no fallback is configured.</exception>
#pragma warning disable RS0027 // Shipped with its optional parameters, which existing calls rely on; the overload with durability has none, so no call is ambiguous.
    ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default);
#pragma warning restore RS0027

    /// <summary>
    /// Deletes <paramref name="key"/> with the durability asked for, instead of <see cref="FallbackOptions.Durability"/>:
    /// with <see cref="KeyValueDurability.Synchronous"/> the call returns only after PostgreSQL committed the delete too.
    /// Returns whether it existed (always <see langword="true"/> when served by the fallback).
    /// </summary>
    /// <exception cref="ArgumentException">The key or durability is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">
    /// Redis is unavailable and no fallback is configured; or, for a synchronous delete, no fallback store is configured
    /// or PostgreSQL did not commit in time (<see cref="UnavailableReason.DurableCopyNotConfirmed"/>).
    /// </exception>
    ValueTask<bool> DeleteAsync(string key, KeyValueDurability durability, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the exclusive lock <paramref name="key"/> for <paramref name="timeToLive"/> without waiting.
    /// Returns <see langword="false"/> when another holder has it. Taking a lock this coordinator already holds
    /// succeeds and restarts its TTL.
    /// </summary>
    /// <param name="key">The lock name.</param>
    /// <param name="timeToLive">How long the lock is held unless unlocked first; <see langword="null"/> uses <see cref="CoordinationOptions.DefaultLockTtl"/>. 1 ms to 30 days.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <exception cref="ArgumentException">The key or TTL is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable: locks fail closed, never from the fallback.</exception>
    ValueTask<bool> LockAsync(string key, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Releases the lock <paramref name="key"/> if this coordinator holds it. Returns <see langword="false"/> and
    /// changes nothing when it does not (never taken here, expired, or taken by someone else since).
    /// </summary>
    /// <exception cref="ArgumentException">The key is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable; the lock expires with its TTL.</exception>
    ValueTask<bool> UnlockAsync(string key, CancellationToken cancellationToken = default);
}
