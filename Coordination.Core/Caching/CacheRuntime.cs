using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// What the caches of all tenants share on one connection pool: options, the memory level's size accounting, the
/// backplane (pub/sub and invalidation log), the combined reads and the instruments. Owned by the container (one per
/// host); it keeps one cache per tenant.
/// </summary>
internal sealed partial class CacheRuntime : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, RedisCacheManager> _tenants = new(StringComparer.Ordinal);
    private readonly Func<string, RedisCacheManager> _create;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConditionalWeakTable<CacheEntryOptions, CacheEntrySettings> _settings = [];
    private long _memoryBytes;
    private int _compacting;
    private int _disposed;

    public CacheRuntime(
        RedisExecutor executor,
        CoordinationOptions options,
        ICoordinationSerializer serializer,
        IPlatformLocks platformLocks,
        RedisClock clock,
        CoordinationMetrics metrics,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        Executor = executor;
        Options = options.Cache;
        KeyPrefix = options.KeyPrefix;
        MaxValueBytes = options.MaxValueBytes;
        Serializer = serializer;
        Clock = clock;
        Time = time;
        Logger = loggerFactory.CreateLogger<RedisCacheManager>();
        Metrics = new CacheMetrics(metrics.Meter);
        Reads = new RedisReadCombiner(executor, metrics, "cache.get", options.MaxReadsInFlight);
        Channel = KeyPrefix + ":cache-bus";
        NodeId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        _create = tenant => new RedisCacheManager(this, tenant, platformLocks.For(tenant));
    }

    /// <summary>The entry reads of every tenant, combined under load.</summary>
    public RedisReadCombiner Reads { get; }

    /// <summary>Redis's clock as last read; entry times are in it.</summary>
    public RedisClock Clock { get; }

    public RedisExecutor Executor { get; }

    public CacheOptions Options { get; }

    public string KeyPrefix { get; }

    public int MaxValueBytes { get; }

    public ICoordinationSerializer Serializer { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public CacheMetrics Metrics { get; }

    /// <summary>The backplane channel (<c>{prefix}:cache-bus</c>), shared by the tenants of the prefix; each tenant has a log of its own.</summary>
    public string Channel { get; }

    /// <summary>This node's id on the backplane: its own messages are not applied twice.</summary>
    public string NodeId { get; }

    /// <summary>Canceled at shutdown; the token factories get.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public long MemoryBytes => Interlocked.Read(ref _memoryBytes);

    /// <summary>
    /// <paramref name="options"/> resolved and validated, once per instance (a hot path that passes the same options
    /// on every call neither allocates nor validates again).
    /// </summary>
    public CacheEntrySettings Settings(CacheEntryOptions options) =>
        _settings.TryGetValue(options, out var settings) ? settings : _settings.GetValue(options, o => CacheEntrySettings.Resolve(o, Options));

    public RedisCacheManager ForTenant(string tenant)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        if (_tenants.TryGetValue(tenant, out var cache))
        {
            return cache;
        }

        cache = _tenants.GetOrAdd(tenant, _create);
        // The new tenant's log offset is learned now rather than at the next poll, so that pub/sub messages it misses
        // meanwhile are replayed from the log.
        TriggerCatchUp();
        return cache;
    }

    /// <summary>The caches created so far.</summary>
    public ICollection<RedisCacheManager> Tenants => _tenants.Values;

    /// <summary>The Redis clock in Unix milliseconds, estimated from the last script that returned it.</summary>
    public long NowMs() => Clock.EstimateNow();

    public void AddMemoryBytes(long delta)
    {
        var total = Interlocked.Add(ref _memoryBytes, delta);
        if (delta > 0 && total > Options.MemorySizeLimitBytes && Interlocked.CompareExchange(ref _compacting, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static runtime => runtime.Compact(), this, preferLocal: false);
        }
    }

    /// <summary>Evicts dead entries, then the least recently used, down to 90 % of the size limit.</summary>
    internal void Compact()
    {
        try
        {
            var now = NowMs();
            var target = Options.MemorySizeLimitBytes * 9 / 10;
            long evicted = 0;
            var live = new List<(RedisCacheManager Cache, string Key, CacheItem Item)>();
            foreach (var cache in _tenants.Values)
            {
                foreach (var (key, item) in cache.MemoryEntries)
                {
                    if (now >= item.HardExpires || now >= item.MemoryExpires && item.HardExpires <= item.Expires)
                    {
                        evicted += cache.EvictMemory(key, item) ? 1 : 0;
                    }
                    else
                    {
                        live.Add((cache, key, item));
                    }
                }
            }

            if (MemoryBytes > target)
            {
                live.Sort(static (a, b) => a.Item.LastAccess.CompareTo(b.Item.LastAccess));
                foreach (var (cache, key, item) in live)
                {
                    if (MemoryBytes <= target)
                    {
                        break;
                    }

                    evicted += cache.EvictMemory(key, item) ? 1 : 0;
                }
            }

            Metrics.MemoryEvicted(evicted);
        }
        finally
        {
            Volatile.Write(ref _compacting, 0);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        await StopBackplaneAsync();
        _stopping.Dispose();
    }
}
