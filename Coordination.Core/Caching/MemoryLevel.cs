namespace Coordination;

/// <summary>
/// The budget of the memory level (L1) of one cache runtime, shared by its tenants: a size limit for the process and a
/// share of it for each tenant.
/// </summary>
/// <remarks>
/// <para>
/// Entries are charged what they really hold (see <see cref="RedisCacheManager"/>), so the limit bounds the heap the
/// level keeps alive. A store that takes its tenant over <see cref="ShareBytes"/> evicts that tenant's own least
/// recently used entries (down to 90 % of the share), so one tenant's flood never evicts another tenant that is within
/// its share. A store that takes the level over <see cref="LimitBytes"/> (possible when several tenants together hold
/// more than the limit) evicts fairly: the tenants that hold the most are trimmed to one common level, smaller holders
/// keep everything (max-min fairness), until the level is at 90 % of its limit.
/// </para>
/// <para>
/// Both evictions run in the store that crossed the bound, before it returns, under one lock; a store waits for a
/// compaction in progress. So the level exceeds its limit only by the entries of stores still on their way to that
/// lock: at most one entry of <see cref="MaxEntryBytes"/> per concurrent store.
/// </para>
/// </remarks>
internal sealed class MemoryLevel
{
    private readonly Lock _compactLock = new();
    private readonly Lock _tenantsLock = new();
    private readonly Func<long> _now;
    private TenantMemory[] _tenants = [];
    private long _usedBytes;

    public MemoryLevel(CacheOptions options, CacheMetrics metrics, Func<long> now)
    {
        LimitBytes = options.MemorySizeLimitBytes;
        ShareBytes = (long)(options.MemorySizeLimitBytes * options.MemoryTenantShare);
        MaxEntryBytes = ShareBytes / MaxEntryFractionOfShare;
        Metrics = metrics;
        _now = now;
    }

    /// <summary>An entry may take at most this fraction of its tenant's share, so a tenant keeps several entries.</summary>
    public const int MaxEntryFractionOfShare = 4;

    /// <summary>The most the level is charged (<see cref="CacheOptions.MemorySizeLimitBytes"/>); 0: no memory level.</summary>
    public long LimitBytes { get; }

    /// <summary>The most one tenant is charged (<see cref="CacheOptions.MemoryTenantShare"/> of the limit).</summary>
    public long ShareBytes { get; }

    /// <summary>The largest entry kept; a larger value is served from Redis on every read.</summary>
    public long MaxEntryBytes { get; }

    public CacheMetrics Metrics { get; }

    /// <summary>The bytes the entries of all tenants are charged.</summary>
    public long UsedBytes => Interlocked.Read(ref _usedBytes);

    /// <summary>Whether an entry charged <paramref name="size"/> bytes may be kept.</summary>
    public bool Admits(long size) => LimitBytes > 0 && size <= MaxEntryBytes;

    public TenantMemory AddTenant()
    {
        var tenant = new TenantMemory(this);
        lock (_tenantsLock)
        {
            _tenants = [.. _tenants, tenant];
        }

        return tenant;
    }

    internal void Charge(long delta) => Interlocked.Add(ref _usedBytes, delta);

    /// <summary>After <paramref name="tenant"/> stored an entry: evicts until it is within its share and the level within its limit.</summary>
    internal void Grew(TenantMemory tenant)
    {
        if (tenant.UsedBytes <= ShareBytes && UsedBytes <= LimitBytes)
        {
            return;
        }

        lock (_compactLock)
        {
            if (tenant.UsedBytes > ShareBytes)
            {
                Metrics.MemoryEvicted(tenant.EvictExpired(_now()), CacheMetrics.EvictedExpired);
                Metrics.MemoryEvicted(tenant.EvictLeastRecentlyUsed(ShareBytes * 9 / 10), CacheMetrics.EvictedOverShare);
            }

            if (UsedBytes > LimitBytes)
            {
                CompactLocked();
            }
        }
    }

    /// <summary>Evicts expired entries of every tenant, then trims the largest holders until the level is at 90 % of its limit.</summary>
    public void Compact()
    {
        lock (_compactLock)
        {
            CompactLocked();
        }
    }

    private void CompactLocked()
    {
        var tenants = Volatile.Read(ref _tenants);
        var now = _now();
        long expired = 0;
        foreach (var tenant in tenants)
        {
            expired += tenant.EvictExpired(now);
        }

        Metrics.MemoryEvicted(expired, CacheMetrics.EvictedExpired);
        var target = LimitBytes * 9 / 10;
        if (UsedBytes <= target)
        {
            return;
        }

        var level = WaterLevel(Array.ConvertAll(tenants, t => t.UsedBytes), target);
        long evicted = 0;
        foreach (var tenant in tenants)
        {
            evicted += tenant.EvictLeastRecentlyUsed(level);
        }

        Metrics.MemoryEvicted(evicted, CacheMetrics.EvictedOverLimit);
    }

    /// <summary>
    /// The highest per-tenant level such that trimming every tenant to it (tenants below keep what they hold) brings
    /// the total to at most <paramref name="targetBytes"/>: the max-min fair allocation of the target.
    /// </summary>
    internal static long WaterLevel(long[] usedBytes, long targetBytes)
    {
        var sorted = (long[])usedBytes.Clone();
        Array.Sort(sorted, static (a, b) => b.CompareTo(a));
        var below = 0L;
        foreach (var used in sorted)
        {
            below += used;
        }

        for (var capped = 1; capped <= sorted.Length; capped++)
        {
            below -= sorted[capped - 1];
            var level = (targetBytes - below) / capped;
            var next = capped < sorted.Length ? sorted[capped] : 0;
            if (level >= next)
            {
                return Math.Max(level, 0);
            }
        }

        return 0;
    }
}
