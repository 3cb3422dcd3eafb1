using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Coordination;

/// <summary>The Redis implementation of <see cref="ICacheManager"/> for one tenant.</summary>
internal sealed partial class RedisCacheManager : ICacheManager
{
    private const string Capability = "cache";
    private readonly CacheRuntime _runtime;
    private readonly string _keyPrefix;
    private readonly CacheEntrySettings _defaults;
    private readonly ConcurrentDictionary<string, CacheItem> _memory = new(StringComparer.Ordinal);

    // Invalidation counters: a Redis read that an invalidation of its key (bucket) or a tag/prefix invalidation
    // overtook does not fill the memory level, as it may have read the value the invalidation replaced.
    private const int EpochBuckets = 256;
    private readonly long[] _keyEpochs = new long[EpochBuckets];
    private long _epoch;

    public RedisCacheManager(CacheRuntime runtime, string tenant, IDistributedLockManager singleFlightLocks)
    {
        _runtime = runtime;
        Tenant = tenant;
        _keyPrefix = CoordinationKey.Build(runtime.KeyPrefix, tenant, Capability, string.Empty);
        _stampKeys = StampKeys(runtime.KeyPrefix, tenant);
        _stamps = new InvalidationStamps(runtime.Options.MaxStampsPerTenant);
        _defaults = CacheEntrySettings.Resolve(null, runtime.Options);
        _locks = singleFlightLocks;
        runtime.EnsureBackplane();
    }

    public string Tenant { get; }

    internal CacheRuntime Runtime => _runtime;

    /// <summary>Samples reads for hot-key re-warming while the cache warming service runs; null otherwise.</summary>
    internal HotKeyTracker? HotKeys { get; set; }

    internal IEnumerable<KeyValuePair<string, CacheItem>> MemoryEntries => _memory;

    internal int MemoryCount => _memory.Count;

    internal bool MemoryContains(string key) => _memory.ContainsKey(key);

    internal string RedisKey(string key) => _keyPrefix + key;

    // Not async: a memory hit completes synchronously without a state machine.
    public ValueTask<CacheResult<T>> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        HotKeys?.Record(key);
        var now = _runtime.NowMs();
        if (_memory.TryGetValue(key, out var item) && Is(item.Value, out T memoryValue) && IsFresh(key, item, now))
        {
            item.LastAccess = Environment.TickCount64;
            _runtime.Metrics.MemoryHit();
            return new ValueTask<CacheResult<T>>(new CacheResult<T>(memoryValue, CacheSource.Memory));
        }

        _runtime.Metrics.MemoryMiss();
        return GetFromRedisAsync<T>(key, cancellationToken);
    }

    private async ValueTask<CacheResult<T>> GetFromRedisAsync<T>(string key, CancellationToken cancellationToken)
    {
        var epoch = Epoch(key);
        var stored = await ReadAsync(key, cancellationToken);
        if (stored is not { } entry || !IsUsable(key, entry.Info, _runtime.NowMs(), allowStale: false))
        {
            _runtime.Metrics.RedisMiss();
            return default;
        }

        _runtime.Metrics.RedisHit();
        var value = Deserialize<T>(entry.Payload, entry.Codec);
        Remember(key, value, entry.Info, _defaults.MemoryTimeToLive, entry.Payload.Length, epoch);
        return new CacheResult<T>(value!, CacheSource.Redis);
    }

    public async ValueTask SetAsync<T>(string key, T value, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        var settings = options is null ? _defaults : _runtime.Settings(options);
        await WriteAsync(key, value, settings, 0, throwWhenUnavailable: true, cancellationToken);
    }

    public async ValueTask RemoveAsync(string key, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        EvictLocally(key);
        await _runtime.Executor.ExecuteAsync(
            "cache.remove",
            idempotent: true,
            static async (db, s) =>
            {
                var delete = db.KeyDeleteAsync(s.Key);
                var log = s.Runtime.AppendLogAsync(db, "k", s.Tenant, s.Name);
                await Task.WhenAll(delete, log);
                return true;
            },
            (Key: (RedisKey)RedisKey(key), Runtime: _runtime, Tenant, Name: key),
            cancellationToken);
        _runtime.Metrics.Invalidation("key", "local");
    }

    public ValueTask InvalidateTagsAsync(IEnumerable<string> tags, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var list = tags.ToArray();
        var limit = _runtime.Options.MaxTagsPerInvalidation;
        if (list.Length > limit)
        {
            throw new ArgumentException($"A call can invalidate at most {limit} tags (Coordination:Cache:MaxTagsPerInvalidation); it has {list.Length}.", nameof(tags));
        }

        foreach (var tag in list)
        {
            CoordinationKey.ValidateName(tag, nameof(tags));
        }

        return list.Length == 0 ? ValueTask.CompletedTask : StampAsync(list, isPrefix: false, cancellationToken);
    }

    public ValueTask InvalidateByPrefixAsync(string prefix, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(prefix, nameof(prefix));
        return StampAsync([prefix], isPrefix: true, cancellationToken);
    }

    /// <summary>Whether <paramref name="key"/> may have a sliding expiration: false only when memory knows it has none.</summary>
    internal bool MaySlide(string key) => !_memory.TryGetValue(key, out var item) || item.Sliding > 0;

    /// <summary>Restarts the sliding expiration of <paramref name="key"/> in Redis (one script); the memory level keeps its own shorter TTL.</summary>
    internal async ValueTask TouchAsync(string key, CancellationToken cancellationToken)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        await _runtime.Executor.ExecuteAsync(
            "cache.touch",
            idempotent: true,
            static (db, s) => RedisScript.CacheTouch.EvaluateByShaAsync(db, [s.Key], [s.FailSafe]),
            (Key: (RedisKey)RedisKey(key), FailSafe: _defaults.FailSafeWindow),
            cancellationToken);
    }

    /// <summary>Writes both levels and announces the key's invalidation.</summary>
    private async ValueTask WriteAsync<T>(string key, T value, CacheEntrySettings settings, int computeMilliseconds, bool throwWhenUnavailable, CancellationToken cancellationToken)
    {
        var payload = Serialize(value);
        var body = CacheEntryCodec.Encode(payload, settings.Tags, computeMilliseconds, settings.Compression, _runtime.Options.CompressionThresholdBytes, out var saved);
        if (saved > 0)
        {
            _runtime.Metrics.CompressionSaved(saved);
        }

        var ttl = settings.NextTimeToLive();
        BumpEpoch(key);
        long created;
        try
        {
            created = await _runtime.Executor.ExecuteAsync(
                "cache.set",
                idempotent: true,
                static async (db, s) =>
                {
                    var set = RedisScript.CacheSet.EvaluateAsync(db, [s.Key], [s.Ttl, s.Ttl + s.FailSafe, s.Sliding, s.Body]);
                    var log = s.Runtime.AppendLogAsync(db, "k", s.Tenant, s.Name);
                    await Task.WhenAll(set, log);
                    return (long)await set;
                },
                (Key: (RedisKey)RedisKey(key), Ttl: ttl, FailSafe: settings.FailSafeWindow, settings.Sliding, Body: body, Runtime: _runtime, Tenant, Name: key),
                cancellationToken);
            _runtime.Clock.Observe(created);
        }
        catch (CoordinationUnavailableException ex) when (!throwWhenUnavailable)
        {
            CachingLog.WriteFailed(_runtime.Logger, ex);
            created = _runtime.NowMs();
        }
        catch (CoordinationUnavailableException)
        {
            // The caller learns that Redis has not got the value; this node still serves what it was told to cache.
            Store(key, value, new StoredEntryInfo(_runtime.NowMs(), _runtime.NowMs() + ttl, _runtime.NowMs() + ttl + settings.FailSafeWindow, settings.Sliding, computeMilliseconds, settings.Tags), settings.MemoryTimeToLive, payload.Length);
            throw;
        }

        Store(key, value, new StoredEntryInfo(created, created + ttl, created + ttl + settings.FailSafeWindow, settings.Sliding, computeMilliseconds, settings.Tags), settings.MemoryTimeToLive, payload.Length);
    }

    internal readonly record struct StoredEntry(StoredEntryInfo Info, ReadOnlyMemory<byte> Payload, CacheCompression Codec);

    /// <summary>One read (a GET, or part of an MGET under load). Null when absent or not in the cache format.</summary>
    internal async ValueTask<StoredEntry?> ReadAsync(string key, CancellationToken cancellationToken, long failSafeWindow = -1)
    {
        if (!_stampsLoaded)
        {
            await LoadStampsAsync(cancellationToken);
        }

        var stored = await _runtime.Reads.GetAsync(RedisKey(key), cancellationToken);
        if (stored.IsNull || !CacheEntryCodec.TryDecode((ReadOnlyMemory<byte>)stored, failSafeWindow < 0 ? _defaults.FailSafeWindow : failSafeWindow, out var info, out var payload, out var codec))
        {
            return null;
        }

        return new StoredEntry(info, payload, codec);
    }

    /// <summary>Whether the entry may be served: not invalidated by a tag or prefix, and fresh (or within fail-safe when allowed).</summary>
    private bool IsUsable(string key, in StoredEntryInfo info, long now, bool allowStale) =>
        (now < info.Expires || (allowStale && now < info.HardExpires)) && !IsInvalidated(key, info.Created, info.Tags, now);

    private bool IsFresh(string key, CacheItem item, long now)
    {
        if (now < item.MemoryExpires && !IsInvalidated(key, item.Created, item.Tags, now))
        {
            return true;
        }

        if (now >= item.HardExpires)
        {
            EvictMemory(key, item);
        }

        return false;
    }

    internal void OnKeyInvalidated(string key) => EvictLocally(key);

    private void EvictLocally(string key)
    {
        BumpEpoch(key);
        if (_memory.TryGetValue(key, out var item))
        {
            EvictMemory(key, item);
        }
    }

    internal bool EvictMemory(string key, CacheItem item)
    {
        if (_memory.TryRemove(new KeyValuePair<string, CacheItem>(key, item)))
        {
            _runtime.AddMemoryBytes(-item.Size);
            return true;
        }

        return false;
    }

    internal void ClearMemory()
    {
        Interlocked.Increment(ref _epoch);
        foreach (var (key, item) in _memory)
        {
            EvictMemory(key, item);
        }

        _stampsLoaded = false;
    }

    /// <summary>Fills the memory level from a Redis read, unless an invalidation arrived since the read began.</summary>
    private void Remember(string key, object? value, in StoredEntryInfo info, long memoryTimeToLive, int payloadLength, long epoch)
    {
        if (Epoch(key) == epoch)
        {
            Store(key, value, info, memoryTimeToLive, payloadLength);
        }
    }

    /// <summary>Whether a memory value is a <typeparamref name="T"/>; a cached <see langword="null"/> is one for nullable types.</summary>
    private static bool Is<T>(object? value, out T result)
    {
        if (value is T typed)
        {
            result = typed;
            return true;
        }

        result = default!;
        return value is null && default(T) is null;
    }

    /// <summary>The invalidation count that concerns <paramref name="key"/>: its bucket's plus the tenant-wide one.</summary>
    private long Epoch(string key) =>
        Volatile.Read(ref _keyEpochs[(uint)StringComparer.Ordinal.GetHashCode(key) % EpochBuckets]) + Volatile.Read(ref _epoch);

    private void BumpEpoch(string key) => Interlocked.Increment(ref _keyEpochs[(uint)StringComparer.Ordinal.GetHashCode(key) % EpochBuckets]);

    private void Store(string key, object? value, in StoredEntryInfo info, long memoryTimeToLive, int payloadLength)
    {
        if (memoryTimeToLive <= 0 || _runtime.Options.MemorySizeLimitBytes == 0)
        {
            return;
        }

        var size = payloadLength + (key.Length * 2) + 96;
        var item = new CacheItem(value, info, Math.Min(_runtime.NowMs() + memoryTimeToLive, info.Expires), size);
        var previous = _memory.TryGetValue(key, out var old) ? old.Size : 0;
        _memory[key] = item;
        _runtime.AddMemoryBytes(size - previous);
    }

    private byte[] Serialize<T>(T value)
    {
        if (value is byte[] raw)
        {
            return raw;
        }

        return _runtime.Serializer.SerializeBounded(value, _runtime.MaxValueBytes, nameof(value));
    }

    private T? Deserialize<T>(ReadOnlyMemory<byte> payload, CacheCompression codec)
    {
        var bytes = codec == CacheCompression.None ? payload : CacheEntryCodec.Decompress(payload.Span, codec);
        if (typeof(T) == typeof(byte[]))
        {
            return (T)(object)bytes.ToArray();
        }

        return _runtime.Serializer.Deserialize<T>(bytes.Span);
    }
}
