using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination;

/// <summary>
/// What the caches of all tenants share on one connection pool: options, the memory level's size accounting, the
/// estimate of the Redis clock, the backplane (pub/sub and invalidation log) and the instruments.
/// </summary>
internal sealed partial class CacheRuntime : IAsyncDisposable
{
    private static readonly ConditionalWeakTable<RedisExecutor, CacheRuntime> ByExecutor = [];
    private readonly ConcurrentDictionary<string, RedisCacheManager> _tenants = new(StringComparer.Ordinal);
    private readonly Func<string, RedisCacheManager> _create;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConditionalWeakTable<CacheEntryOptions, CacheEntrySettings> _settings = [];
    private long _memoryBytes;
    private int _compacting;
    private long _clockOffset;
    private int _disposed;

    public CacheRuntime(RedisExecutor executor, CoordinationOptions options, ICoordinationSerializer serializer, TimeProvider time, ILoggerFactory loggerFactory)
    {
        Executor = executor;
        Options = options.Cache;
        KeyPrefix = options.KeyPrefix;
        MaxValueBytes = options.MaxValueBytes;
        Serializer = serializer;
        Time = time;
        Logger = loggerFactory.CreateLogger<RedisCacheManager>();
        Metrics = new CacheMetrics(executor.Metrics.Meter);
        LogKey = KeyPrefix + ":cache-log";
        Channel = KeyPrefix + ":cache-bus";
        NodeId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        _create = tenant => new RedisCacheManager(this, tenant, LockRuntime.For(executor, options));
    }

    /// <summary>The entry reads of every tenant, combined under load.</summary>
    public RedisReadCombiner Reads => Executor.CacheReads;

    public RedisExecutor Executor { get; }

    public CacheOptions Options { get; }

    public string KeyPrefix { get; }

    public int MaxValueBytes { get; }

    public ICoordinationSerializer Serializer { get; }

    public TimeProvider Time { get; }

    public ILogger Logger { get; }

    public CacheMetrics Metrics { get; }

    /// <summary>The invalidation log, shared by the tenants of the prefix (<c>{prefix}:cache-log</c>).</summary>
    public string LogKey { get; }

    /// <summary>The backplane channel (<c>{prefix}:cache-bus</c>).</summary>
    public string Channel { get; }

    /// <summary>This node's id on the backplane: its own messages are not applied twice.</summary>
    public string NodeId { get; }

    /// <summary>Canceled at shutdown; the token factories get.</summary>
    public CancellationToken Stopping => _stopping.Token;

    public long MemoryBytes => Interlocked.Read(ref _memoryBytes);

    /// <summary>The runtime registered for <paramref name="executor"/>, or a new one with default clock and logging.</summary>
    public static CacheRuntime For(RedisExecutor executor, CoordinationOptions options, ICoordinationSerializer serializer) =>
        ByExecutor.GetValue(executor, e => new CacheRuntime(e, options, serializer, TimeProvider.System, NullLoggerFactory.Instance));

    /// <summary>Makes <paramref name="create"/>'s runtime the one <see cref="For"/> returns, unless one is already in use.</summary>
    public static CacheRuntime Register(RedisExecutor executor, Func<CacheRuntime> create) =>
        ByExecutor.GetValue(executor, _ => create());

    /// <summary>
    /// <paramref name="options"/> resolved and validated, once per instance (a hot path that passes the same options
    /// on every call neither allocates nor validates again).
    /// </summary>
    public CacheEntrySettings Settings(CacheEntryOptions options) =>
        _settings.TryGetValue(options, out var settings) ? settings : _settings.GetValue(options, o => CacheEntrySettings.Resolve(o, Options));

    public RedisCacheManager ForTenant(string tenant)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        return _tenants.GetOrAdd(tenant, _create);
    }

    /// <summary>The caches created so far.</summary>
    public ICollection<RedisCacheManager> Tenants => _tenants.Values;

    /// <summary>The Redis clock in Unix milliseconds, estimated from the last script that returned it.</summary>
    public long NowMs() => Time.GetUtcNow().ToUnixTimeMilliseconds() + Interlocked.Read(ref _clockOffset);

    /// <summary>Learns the offset of the Redis clock from a server time a script just returned.</summary>
    public void ObserveServerTime(long serverMs) =>
        Interlocked.Exchange(ref _clockOffset, serverMs - Time.GetUtcNow().ToUnixTimeMilliseconds());

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

    /// <summary>Clears the memory level of every tenant (the log no longer reaches back to this node's offset).</summary>
    public void ClearMemory()
    {
        foreach (var cache in _tenants.Values)
        {
            cache.ClearMemory();
        }

        Metrics.Invalidation("clear", "log");
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
