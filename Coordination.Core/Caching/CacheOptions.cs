using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// Options of the two-level cache (<see cref="ICacheManager"/>), bound from <see cref="SectionName"/> and changed with
/// <c>WithCaching(...)</c>. Per-entry settings in <see cref="CacheEntryOptions"/> override the defaults here.
/// </summary>
public sealed class CacheOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Cache";

    /// <summary>Gets or sets how long an entry is fresh when its options name no time to live.</summary>
    /// <value>The default value is 5 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "30.00:00:00")]
    public TimeSpan DefaultTimeToLive { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the largest random extra time added to an entry's time to live, so that entries written together
    /// do not expire together. The extra time is uniform in [0, jitter].
    /// </summary>
    /// <value>The default value is <see cref="TimeSpan.Zero"/> (no jitter).</value>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan DefaultJitter { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Gets or sets the longest time a value stays in the memory level (L1) before it is read from Redis again; capped
    /// by the entry's own time to live. Invalidations evict L1 entries sooner, through the backplane.
    /// </summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan MemoryTimeToLive { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Gets or sets the size limit of the memory level of the process in bytes, shared by all tenants. An entry is
    /// charged what its value holds in memory (measured when the cache reads the value, not its serialized size),
    /// plus the entry's own objects. Above the limit, the tenants that hold the most give up their least recently
    /// used entries until the level is at 90 % of the limit. 0 disables the memory level.
    /// </summary>
    /// <value>The default value is 64 MiB.</value>
    [Range(0L, long.MaxValue)]
    public long MemorySizeLimitBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Gets or sets the fraction of <see cref="MemorySizeLimitBytes"/> one tenant's entries may hold. A tenant over
    /// its share evicts its own least recently used entries (down to 90 % of the share), so one tenant cannot evict
    /// another that is within its share. An entry larger than a quarter of the share is not kept in memory; it is
    /// read from Redis each time. Must be greater than 0 and at most 1.
    /// </summary>
    /// <value>The default value is 0.5.</value>
    [Range(0.0, 1.0, MinimumIsExclusive = true)]
    public double MemoryTenantShare { get; set; } = 0.5;

    /// <summary>Gets or sets the codec for values at or above <see cref="CompressionThresholdBytes"/>.</summary>
    /// <value>The default value is <see cref="CacheCompression.Brotli"/>.</value>
    public CacheCompression Compression { get; set; } = CacheCompression.Brotli;

    /// <summary>
    /// Gets or sets the serialized size from which values are compressed. A compressed value that is not smaller than
    /// the original is stored uncompressed.
    /// </summary>
    /// <value>The default value is 1024 bytes.</value>
    [Range(1, int.MaxValue)]
    public int CompressionThresholdBytes { get; set; } = 1024;

    /// <summary>
    /// Gets or sets how long after its time to live an entry may still be served, marked stale, when the factory or
    /// Redis fails. Redis keeps entries for their time to live plus this window. <see cref="TimeSpan.Zero"/> disables
    /// fail-safe.
    /// </summary>
    /// <value>The default value is <see cref="TimeSpan.Zero"/> (off).</value>
    [Range(typeof(TimeSpan), "00:00:00", "30.00:00:00")]
    public TimeSpan FailSafeWindow { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Gets or sets the fraction of an entry's time to live after which <see cref="ICacheManager.GetOrCreateAsync{T}"/>
    /// refreshes it in the background while still serving it. <see langword="null"/> disables eager refresh.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    [Range(0.01, 0.99)]
    public double? EagerRefreshThreshold { get; set; }

    /// <summary>
    /// Gets or sets the β of probabilistic early refresh (XFetch): a hit refreshes in the background when
    /// <c>now - computeTime * β * ln(random) ≥ expiry</c>, so hot keys whose factory is slow are refreshed before they
    /// expire, and rarely more than once. 0 disables it.
    /// </summary>
    /// <value>The default value is 1.</value>
    [Range(0.0, 100.0)]
    public double EarlyRefreshBeta { get; set; } = 1.0;

    /// <summary>
    /// Gets or sets how long a caller waits for the factory when a stale value exists; after it the stale value is
    /// returned and the factory completes in the background. <see langword="null"/>: no soft timeout.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan? FactorySoftTimeout { get; set; }

    /// <summary>
    /// Gets or sets how long a caller waits for the factory at most; after it a stale value is returned if there is
    /// one, otherwise <see cref="CacheFactoryTimeoutException"/> is thrown. <see langword="null"/>: no hard timeout.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan? FactoryHardTimeout { get; set; }

    /// <summary>
    /// Gets or sets whether a cache miss takes a distributed lock (<see cref="IDistributedLockManager"/>) on the key
    /// before calling the factory, so that one node computes a cold key and the others read its result.
    /// </summary>
    /// <value>The default value is <see langword="false"/> (single-flight within each process only).</value>
    public bool DistributedSingleFlight { get; set; }

    /// <summary>Gets or sets how long a node waits for another node's factory under distributed single-flight before computing itself.</summary>
    /// <value>The default value is 10 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:10:00")]
    public TimeSpan DistributedSingleFlightWait { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Gets or sets how many Redis writes of get-or-create misses may be pending in the background per process. A
    /// miss's caller gets the factory's value as soon as it is in the memory level; the entry and its invalidation are
    /// written to Redis after, while the key's in-process flight stays open so callers of this node join it. Past this
    /// many pending writes the caller waits for its own write (backpressure). Failures are logged and counted, the
    /// value stays in this node's memory level (as for a failed write without this option), and shutdown waits for
    /// pending writes for up to 5 seconds. Misses under <see cref="DistributedSingleFlight"/> that hold the lock, and
    /// <see cref="ICacheManager.SetAsync{T}"/>, always wait for their write. 0: every miss waits for its write.
    /// </summary>
    /// <value>The default value is 256.</value>
    [Range(0, 100_000)]
    public int BackgroundWrites { get; set; } = 256;

    /// <summary>
    /// Gets or sets how many invalidations each tenant's log keeps (exactly trimmed). A node that was cut off for
    /// longer than a tenant's log reaches back clears that tenant's memory level instead of replaying; the other
    /// tenants keep theirs.
    /// </summary>
    /// <value>The default value is 10000.</value>
    [Range(1, 10_000_000)]
    public int InvalidationLogLength { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets how often a node reads the invalidation log for entries pub/sub did not deliver. Reconnection
    /// triggers a read at once as well.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan InvalidationLogPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Gets or sets the most tag and prefix stamps kept per tenant, in Redis and on each replica. Beyond it the oldest
    /// stamps are folded into the tenant's floor: every entry of the tenant created at or before the floor counts as
    /// invalidated, so a tenant that invalidates more names than this loses some of its own cached entries early, and
    /// no other tenant notices. A replica loads at most this many stamps per tenant.
    /// </summary>
    /// <value>The default value is 10000.</value>
    [Range(1, 1_000_000)]
    public int MaxStampsPerTenant { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the most tags one <see cref="ICacheManager.InvalidateTagsAsync"/> call may invalidate; more throw
    /// <see cref="ArgumentException"/>.
    /// </summary>
    /// <value>The default value is 32.</value>
    [Range(1, 1000)]
    public int MaxTagsPerInvalidation { get; set; } = 32;

    /// <summary>
    /// Gets or sets the most tags an entry may carry (<see cref="CacheEntryOptions.Tags"/>); more throw
    /// <see cref="ArgumentException"/>. Every read of the entry looks up each of its tags.
    /// </summary>
    /// <value>The default value is 32.</value>
    [Range(1, CacheEntryCodec.MaxTags)]
    public int MaxTagsPerEntry { get; set; } = 32;
}
