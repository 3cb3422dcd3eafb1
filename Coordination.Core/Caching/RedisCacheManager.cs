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
    private readonly TenantMemory _memory;

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
        _memory = runtime.Memory.AddTenant();
        _locks = singleFlightLocks;
        runtime.EnsureBackplane();
    }

    public string Tenant { get; }

    internal CacheRuntime Runtime => _runtime;

    /// <summary>Samples reads for hot-key re-warming while the cache warming service runs; null otherwise.</summary>
    internal HotKeyTracker? HotKeys { get; set; }

    internal IEnumerable<KeyValuePair<string, CacheItem>> MemoryEntries => _memory.Entries;

    /// <summary>The bytes this tenant's memory entries are charged.</summary>
    internal long MemoryBytes => _memory.UsedBytes;

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
        var value = Deserialize<T>(entry.Payload, entry.Codec, out var retainedBytes);
        Remember(key, value, entry.Info, _defaults.MemoryTimeToLive, retainedBytes, epoch);
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
        // A miss answered before this call may still be writing the key: it lands first, so the remove deletes it.
        await WaitForBackgroundWriteAsync(key, cancellationToken);
        // Whatever Redis answers: this node may hold a value Redis never got (a write whose Redis part failed).
        EvictLocally(key);
        await _runtime.Executor.ExecuteAsync(
            "cache.remove",
            idempotent: true,
            static (db, removal) => removal.RunAsync(db),
            new Removal(_runtime, Tenant, key, RedisKey(key)),
            cancellationToken);
        _runtime.Metrics.Invalidation("key", "local");
    }

    /// <summary>
    /// A remove's Redis part: <c>DEL</c>, then the invalidation (log entry and message) only when it deleted an entry,
    /// so removes of absent keys cost the tenant's log and the other nodes nothing. Two calls, not one script: the
    /// entry and the tenant's log are in different hash slots, and the order makes the pair safe without atomicity (a
    /// write between them announces itself; the extra announcement only evicts).
    /// </summary>
    private sealed class Removal(CacheRuntime runtime, string tenant, string name, string redisKey)
    {
        private int _attempts;

        public async Task<bool> RunAsync(IDatabase database)
        {
            // A failed attempt may have deleted the entry without its answer arriving: a retry announces either way.
            var retried = Interlocked.Increment(ref _attempts) > 1;
            if (!await database.KeyDeleteAsync(redisKey) && !retried)
            {
                return false;
            }

            await runtime.AppendLogAsync(database, "k", tenant, name);
            return true;
        }
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
        // A miss's background write of the key lands first, so this later write is the one Redis keeps.
        await WaitForBackgroundWriteAsync(key, cancellationToken);
        var write = BeginWrite(key, value, settings, computeMilliseconds);
        try
        {
            await CompleteWriteAsync(write, cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (!throwWhenUnavailable)
        {
            CachingLog.WriteFailed(_runtime.Logger, ex);
        }
    }

    /// <summary>
    /// A write's first part, before Redis: serializes and encodes the value, makes the memory level's copy and keeps it
    /// there at once (created at this node's estimate of the Redis clock), so callers of this node see it while the
    /// Redis write is on its way. The key's epoch is bumped so reads that began before do not fill memory with an older value.
    /// </summary>
    private PendingWrite BeginWrite<T>(string key, T value, CacheEntrySettings settings, int computeMilliseconds)
    {
        var payload = Serialize(value);
        var body = CacheEntryCodec.Encode(payload, settings.Tags, computeMilliseconds, settings.Compression, _runtime.Options.CompressionThresholdBytes, out var saved);
        if (saved > 0)
        {
            _runtime.Metrics.CompressionSaved(saved);
        }

        var held = CopyForMemory(value, payload, settings.MemoryTimeToLive);
        var ttl = settings.NextTimeToLive();
        BumpEpoch(key);
        var now = _runtime.NowMs();
        var early = StoreWritten(key, held, new StoredEntryInfo(now, now + ttl, now + ttl + settings.FailSafeWindow, settings.Sliding, computeMilliseconds, settings.Tags), settings.MemoryTimeToLive);
        return new PendingWrite(
            key,
            new CacheWriteCombiner.Write(RedisKey(key), ttl, ttl + settings.FailSafeWindow, settings.Sliding, body, Tenant, key),
            early,
            settings.MemoryTimeToLive,
            computeMilliseconds,
            settings.Tags,
            Epoch(key));
    }

    /// <summary>
    /// A write's second part: the entry and its invalidation in Redis (combined with other writes under load). Once it
    /// landed, the memory level's copy gets the entry's real creation stamp, unless something evicted or replaced the
    /// copy meanwhile (an invalidation from another node: it stays evicted, as the order of the two writes in Redis is
    /// not known here). Reads that began before the write landed may have read the older entry: the key's epoch is bumped
    /// again so they do not fill memory with it. On failure the copy stays in this node's memory only.
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    private async ValueTask CompleteWriteAsync(PendingWrite write, CancellationToken cancellationToken, bool later = false)
    {
        var created = await (later ? _runtime.Writes.WriteLaterAsync(write.Write) : _runtime.Writes.WriteAsync(write.Write, cancellationToken));
        _runtime.Clock.Observe(created);
        BumpEpoch(write.Key);
        if (write.Early is { } early)
        {
            var info = new StoredEntryInfo(created, created + write.Write.TimeToLive, created + write.Write.PhysicalTimeToLive, write.Write.Sliding, write.ComputeMilliseconds, write.Tags);
            _memory.Replace(write.Key, early, new CacheItem(early.Value, info, Math.Min(_runtime.NowMs() + write.MemoryTimeToLive, info.Expires), early.Size));
        }
        else
        {
            _memory.Remove(write.Key);
        }
    }

    /// <summary>A write between its two parts: the Redis write and what the memory level got (null: nothing kept).</summary>
    private readonly record struct PendingWrite(string Key, CacheWriteCombiner.Write Write, CacheItem? Early, long MemoryTimeToLive, int ComputeMilliseconds, string[] Tags, long Epoch);

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

        DropAnsweredFlight(key);
    }

    internal bool EvictMemory(string key, CacheItem item) => _memory.Evict(key, item);

    internal void ClearMemory()
    {
        Interlocked.Increment(ref _epoch);
        DropAnsweredFlights();
        foreach (var (key, item) in _memory.Entries)
        {
            EvictMemory(key, item);
        }

        _stampsLoaded = false;
    }

    /// <summary>Fills the memory level from a Redis read, unless an invalidation arrived since the read began.</summary>
    private void Remember(string key, object? value, in StoredEntryInfo info, long memoryTimeToLive, long retainedBytes, long epoch)
    {
        if (Epoch(key) == epoch)
        {
            Store(key, value, info, memoryTimeToLive, retainedBytes);
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

    /// <summary>
    /// Keeps <paramref name="value"/> in the memory level, charged <paramref name="retainedBytes"/> (what the value
    /// holds) plus the entry's own objects; a value larger than an entry may be is not kept (see <see cref="MemoryLevel"/>).
    /// </summary>
    private CacheItem? Store(string key, object? value, in StoredEntryInfo info, long memoryTimeToLive, long retainedBytes)
    {
        if (memoryTimeToLive <= 0 || _runtime.Memory.LimitBytes == 0)
        {
            return null;
        }

        var size = retainedBytes + EntryOverheadBytes(key, info.Tags);
        var item = new CacheItem(value, info, Math.Min(_runtime.NowMs() + memoryTimeToLive, info.Expires), size);
        return _memory.Store(key, item) ? item : null;
    }

    /// <summary>
    /// For a write: keeps the copy <see cref="CopyForMemory"/> made, or drops the key's older entry when there is none.
    /// The item kept, or null.
    /// </summary>
    private CacheItem? StoreWritten(string key, HeldValue? held, in StoredEntryInfo info, long memoryTimeToLive)
    {
        if (held is { } copy && Store(key, copy.Value, info, memoryTimeToLive, copy.RetainedBytes) is { } item)
        {
            return item;
        }

        _memory.Remove(key);
        return null;
    }

    /// <summary>A value for the memory level and the bytes it holds.</summary>
    private readonly record struct HeldValue(object? Value, long RetainedBytes);

    /// <summary>
    /// What the memory level keeps of a written value: the cache's own copy, read back from the payload, so that it
    /// is charged what it really holds (a caller's object may hold far more than its serialized form, as a 1 MiB
    /// JSON array held as a <see cref="System.Text.Json.JsonElement"/> takes 7 MiB) and later changes to the caller's
    /// object do not reach the cache. A <see cref="byte"/> array is kept as given. Null when nothing is to be kept: no
    /// memory level, a payload already larger than an entry may be, or a type the serializer cannot read back.
    /// </summary>
    private HeldValue? CopyForMemory<T>(T value, byte[] payload, long memoryTimeToLive)
    {
        if (memoryTimeToLive <= 0 || _runtime.Memory.LimitBytes == 0)
        {
            return null;
        }

        if (value is byte[] raw)
        {
            return new HeldValue(raw, ArrayBytes(raw.Length));
        }

        if (payload.Length > _runtime.Memory.MaxEntryBytes)
        {
            _runtime.Metrics.MemoryRejected();
            return null;
        }

        try
        {
            var copy = Deserialize<T>(payload, CacheCompression.None, out var retainedBytes);
            return new HeldValue(copy, retainedBytes);
        }
        catch (Exception ex) when (ex is CoordinationSerializationException or NotSupportedException or InvalidOperationException)
        {
            return null; // Other nodes cannot read it from Redis either; this one does not pretend to have it.
        }
    }

    /// <summary>The entry's objects besides the value: the item, the dictionary node, the key and the tags.</summary>
    private static long EntryOverheadBytes(string key, string[] tags)
    {
        var bytes = 160L + StringBytes(key);
        foreach (var tag in tags)
        {
            bytes += 8 + StringBytes(tag);
        }

        return bytes;
    }

    private static long StringBytes(string text) => 22 + (2L * text.Length);

    private static long ArrayBytes(int length) => 24 + length;

    private byte[] Serialize<T>(T value)
    {
        if (value is byte[] raw)
        {
            return raw;
        }

        return _runtime.Serializer.SerializeBounded(value, _runtime.MaxValueBytes, nameof(value));
    }

    private T? Deserialize<T>(ReadOnlyMemory<byte> payload, CacheCompression codec) => Deserialize<T>(payload, codec, out _);

    /// <summary>
    /// Reads a payload into a <typeparamref name="T"/>. <paramref name="retainedBytes"/> is what the value can hold at
    /// most: the bytes this thread allocated while the serializer built it (the serializer runs synchronously, so
    /// nothing else allocates on the thread meanwhile; its scratch space is counted too, which makes it an upper bound).
    /// </summary>
    private T? Deserialize<T>(ReadOnlyMemory<byte> payload, CacheCompression codec, out long retainedBytes)
    {
        var bytes = codec == CacheCompression.None ? payload : CacheEntryCodec.Decompress(payload.Span, codec);
        if (typeof(T) == typeof(byte[]))
        {
            retainedBytes = ArrayBytes(bytes.Length);
            return (T)(object)bytes.ToArray();
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var value = _runtime.Serializer.Deserialize<T>(bytes.Span);
        retainedBytes = GC.GetAllocatedBytesForCurrentThread() - before;
        return value;
    }
}
