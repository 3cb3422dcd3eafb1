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
    private int _disposed;
    private int _backgroundWrites;
    private int _misses;
    private long _backgroundFailures;
    private TaskCompletionSource? _drained;

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
        Metrics = new CacheMetrics(metrics.Meter, () => MemoryBytes);
        Memory = new MemoryLevel(Options, Metrics, NowMs);
        Reads = new RedisReadCombiner(executor, metrics, "cache.get", options.MaxReadsInFlight);
        Writes = new CacheWriteCombiner(this, metrics, options.MaxWritesInFlight);
        Channel = KeyPrefix + ":cache-bus";
        NodeId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        _create = tenant =>
        {
            var cache = new RedisCacheManager(this, tenant, platformLocks.For(tenant));
            TenantCreated?.Invoke(cache);
            return cache;
        };
    }

    /// <summary>The entry reads of every tenant, combined under load.</summary>
    public RedisReadCombiner Reads { get; }

    /// <summary>The entry writes of every tenant with their invalidations, combined under load.</summary>
    public CacheWriteCombiner Writes { get; }

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

    /// <summary>The memory level's budget: its limit, each tenant's share, and what the entries of all tenants are charged.</summary>
    public MemoryLevel Memory { get; }

    public long MemoryBytes => Memory.UsedBytes;

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

    /// <summary>Called with every tenant's cache when it is created (hot-key reports attach their sampling to it).</summary>
    internal Action<RedisCacheManager>? TenantCreated { get; set; }

    /// <summary>The caches created so far.</summary>
    public ICollection<RedisCacheManager> Tenants => _tenants.Values;

    /// <summary>The Redis clock in Unix milliseconds, estimated from the last script that returned it.</summary>
    public long NowMs() => Clock.EstimateNow();

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await DrainBackgroundWritesAsync();
        await _stopping.CancelAsync();
        await StopBackplaneAsync();
        _stopping.Dispose();
    }

    /// <summary>How long a host's stop waits for background writes still pending.</summary>
    internal static readonly TimeSpan BackgroundDrainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Get-or-create misses of the process between their Redis read and their answer.</summary>
    internal int MissesInProgress => Volatile.Read(ref _misses);

    internal void MissStarted() => Interlocked.Increment(ref _misses);

    internal void MissEnded() => Interlocked.Decrement(ref _misses);

    /// <summary>Background writes of get-or-create misses not landed yet.</summary>
    public int PendingBackgroundWrites => Volatile.Read(ref _backgroundWrites);

    /// <summary>Background writes that failed since start.</summary>
    public long BackgroundWriteFailures => Interlocked.Read(ref _backgroundFailures);

    /// <summary>
    /// Takes a slot for a background write: false when background writes are off, the host is stopping, or
    /// <see cref="CacheOptions.BackgroundWrites"/> are pending (the caller then waits for its write: backpressure).
    /// </summary>
    internal bool TryBeginBackgroundWrite()
    {
        var bound = Options.BackgroundWrites;
        if (bound == 0 || Volatile.Read(ref _disposed) != 0)
        {
            return false;
        }

        if (Interlocked.Increment(ref _backgroundWrites) <= bound)
        {
            return true;
        }

        EndBackgroundWrite();
        Metrics.BackgroundWaited();
        return false;
    }

    /// <summary>Gives back the slot of a background write (counted as <paramref name="succeeded"/> when it ran).</summary>
    internal void EndBackgroundWrite(bool? succeeded = null)
    {
        if (succeeded is { } result)
        {
            Metrics.BackgroundWrite(result);
            if (!result)
            {
                Interlocked.Increment(ref _backgroundFailures);
            }
        }

        if (Interlocked.Decrement(ref _backgroundWrites) == 0)
        {
            Volatile.Read(ref _drained)?.TrySetResult();
        }
    }

    /// <summary>At stop: waits for the pending background writes, at most <see cref="BackgroundDrainTimeout"/>.</summary>
    private async Task DrainBackgroundWritesAsync()
    {
        var drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _drained, drained);
        if (PendingBackgroundWrites <= 0)
        {
            return;
        }

        try
        {
            await drained.Task.WaitAsync(BackgroundDrainTimeout, Time);
        }
        catch (TimeoutException)
        {
            CachingLog.BackgroundWritesAbandoned(Logger, PendingBackgroundWrites);
        }
    }
}
