using System.Collections.Concurrent;
using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination;

/// <summary>The Redis implementation of <see cref="IRedisCoordinator"/> for one tenant.</summary>
internal sealed class RedisCoordinator : IRedisCoordinator
{
    private const string KeyValueCapability = "kv";

    private readonly CoordinationOptions _options;
    private readonly ICoordinationSerializer _serializer;
    private readonly RedisExecutor _executor;
    private readonly KeyValueFallback _fallback;
    private readonly RedisReadCombiner _reads;
    private readonly RedisWriteCombiner _writes;
    private readonly RedisLockManager _locks;
    private readonly CacheRuntime _caches;
    private readonly SessionRuntime _sessions;
    private readonly RateLimitRuntime _rateLimits;
    private ICacheManager? _cache;
    private ISessionManager? _sessionManager;
    private RedisKey? _keyLedger;

    // LockAsync/UnlockAsync: this coordinator is one owner; name -> the token of its hold.
    private readonly ConcurrentDictionary<string, string> _heldLocks = new(StringComparer.Ordinal);
    private readonly string _lockOwner = "coordinator:" + LockRuntime.NewOwner();

    public RedisCoordinator(
        string tenant,
        CoordinationOptions options,
        ICoordinationSerializer serializer,
        RedisExecutor executor,
        RedisReadCombiner reads,
        RedisWriteCombiner writes,
        KeyValueFallback fallback,
        LockRuntime locks,
        CacheRuntime caches,
        SessionRuntime sessions,
        RateLimitRuntime rateLimits)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        Tenant = tenant;
        _options = options;
        _serializer = serializer;
        _executor = executor;
        _reads = reads;
        _writes = writes;
        _fallback = fallback;
        _locks = locks.ForTenant(tenant);
        _caches = caches;
        _sessions = sessions;
        _rateLimits = rateLimits;
    }

    public string Tenant { get; }

    public IDistributedLockManager Locks => _locks;

    public ICacheManager Cache => _cache ??= _caches.ForTenant(Tenant);

    public ISessionManager Sessions => _sessionManager ??= _sessions.ForTenant(Tenant);

    public IRateLimitService RateLimits => _rateLimits.ForTenant(Tenant);

    /// <summary>The locks this coordinator holds through <see cref="LockAsync"/>, for release at shutdown.</summary>
    public int HeldLockCount => _heldLocks.Count;

    public ValueTask SetAsync<T>(string key, T value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) =>
        SetAsync(key, value, timeToLive, _options.Fallback.Durability, cancellationToken);

    public async ValueTask SetAsync<T>(string key, T value, TimeSpan? timeToLive, KeyValueDurability durability, CancellationToken cancellationToken)
    {
        var fullKey = BuildKey(KeyValueCapability, key);
        CoordinationLimits.ValidateTimeToLive(timeToLive, nameof(timeToLive));
        var bytes = _serializer.SerializeBounded(value, _options.MaxValueBytes, nameof(value));
        var synchronous = IsSynchronous(durability, "kv.set");
        using var activity = StartActivity("coordination kv.set", key);

        if (_fallback.IsActive && await _fallback.TrySetAsync(fullKey, bytes, timeToLive, "kv.set", cancellationToken))
        {
            return;
        }

        try
        {
            if (_options.Quotas.MaxKeysPerTenant > 0)
            {
                await SetCountedAsync(key, fullKey, bytes, timeToLive, cancellationToken);
            }
            else
            {
                await _writes.SetAsync(fullKey, bytes, timeToLive, cancellationToken);
            }
        }
        catch (CoordinationUnavailableException ex) when (_fallback.Serves(ex))
        {
            await _fallback.SetAsync(fullKey, bytes, timeToLive, "kv.set", ex, cancellationToken);
            return;
        }

        await MirrorAsync(fullKey, bytes, timeToLive, synchronous, "kv.set", cancellationToken);
    }

    public async ValueTask<CoordinationValue<T>> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = BuildKey(KeyValueCapability, key);
        using var activity = StartActivity("coordination kv.get", key);
        if (_fallback.IsActive)
        {
            return await GetFromFallbackAsync<T>(fullKey, "kv.get", null, cancellationToken);
        }

        RedisValue stored;
        try
        {
            stored = await _reads.GetAsync(fullKey, cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (_fallback.Serves(ex))
        {
            return await GetFromFallbackAsync<T>(fullKey, "kv.get", ex, cancellationToken);
        }

        if (stored.IsNull)
        {
            return await ReadThroughAsync<T>(fullKey, withTimeToLive: false, cancellationToken);
        }

        return new CoordinationValue<T>(Deserialize<T>((ReadOnlyMemory<byte>)stored));
    }

    public async ValueTask<CoordinationValue<T>> GetWithTimeToLiveAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = BuildKey(KeyValueCapability, key);
        using var activity = StartActivity("coordination kv.get", key);
        if (_fallback.IsActive)
        {
            return await GetFromFallbackAsync<T>(fullKey, "kv.get", null, cancellationToken);
        }

        RedisResult result;
        try
        {
            result = await _executor.ExecuteAsync(
                "kv.get",
                idempotent: true,
                static (db, k) => RedisScript.GetWithTtl.EvaluateByShaAsync(db, [k], []),
                (RedisKey)fullKey,
                cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (_fallback.Serves(ex))
        {
            return await GetFromFallbackAsync<T>(fullKey, "kv.get", ex, cancellationToken);
        }

        var parts = (RedisResult[])result!;
        if (parts[0].IsNull)
        {
            return await ReadThroughAsync<T>(fullKey, withTimeToLive: true, cancellationToken);
        }

        var pttl = (long)parts[1];
        TimeSpan? ttl = pttl >= 0 ? TimeSpan.FromMilliseconds(pttl) : null;
        return new CoordinationValue<T>(Deserialize<T>((ReadOnlyMemory<byte>)(RedisValue)parts[0]), ttl);
    }

    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default) =>
        DeleteAsync(key, _options.Fallback.Durability, cancellationToken);

    public async ValueTask<bool> DeleteAsync(string key, KeyValueDurability durability, CancellationToken cancellationToken)
    {
        var fullKey = BuildKey(KeyValueCapability, key);
        var synchronous = IsSynchronous(durability, "kv.delete");
        using var activity = StartActivity("coordination kv.delete", key);
        if (_fallback.IsActive && await _fallback.TrySetAsync(fullKey, null, null, "kv.delete", cancellationToken))
        {
            return true;
        }

        bool existed;
        try
        {
            if (_options.Quotas.MaxKeysPerTenant > 0)
            {
                // Uncounted before the delete, not after: a write of the same name racing this delete then either
                // lands after the DEL and counts itself again, or is deleted (docs/operations.md, "Key quotas").
                await _executor.ExecuteAsync("kv.uncount", idempotent: true, static (db, s) => db.SortedSetRemoveAsync(s.Ledger, s.Name), (Ledger: KeyLedger, Name: key), cancellationToken);
            }

            existed = await _fallback.DeleteFromRedisAsync(fullKey, _writes, cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (_fallback.Serves(ex))
        {
            await _fallback.SetAsync(fullKey, null, null, "kv.delete", ex, cancellationToken);
            return true;
        }

        await MirrorAsync(fullKey, null, null, synchronous, "kv.delete", cancellationToken);
        return existed;
    }

    public async ValueTask<bool> LockAsync(string key, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        CoordinationLimits.ValidateTimeToLive(timeToLive, nameof(timeToLive));
        var ttl = timeToLive ?? _options.DefaultLockTtl;
        using var activity = StartActivity("coordination lock.acquire", key);

        if (_heldLocks.TryGetValue(key, out var held))
        {
            // Taken again by this coordinator: the same hold, its time to live restarted (not counted).
            if (await _locks.TryRestartAsync(key, held, ttl, cancellationToken))
            {
                return true;
            }

            // Our hold expired (and maybe someone else took the lock since).
            _heldLocks.TryRemove(new KeyValuePair<string, string>(key, held));
        }

        var token = await _locks.TryTakeAsync(key, ttl, _lockOwner, cancellationToken);
        if (token is null)
        {
            return false;
        }

        _heldLocks[key] = token;
        return true;
    }

    public async ValueTask<bool> UnlockAsync(string key, CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        using var activity = StartActivity("coordination lock.release", key);
        if (!_heldLocks.TryGetValue(key, out var token))
        {
            return false;
        }

        var released = await _locks.TryReleaseAsync(key, token, cancellationToken);
        _heldLocks.TryRemove(new KeyValuePair<string, string>(key, token));
        return released;
    }

    /// <summary>
    /// Releases every lock this coordinator holds through <see cref="LockAsync"/> (the lock runtime releases those
    /// held through handles); returns how many could not be released.
    /// </summary>
    public async Task<int> ReleaseAllAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        foreach (var (key, token) in _heldLocks.ToArray())
        {
            try
            {
                await _locks.TryReleaseAsync(key, token, cancellationToken);
                _heldLocks.TryRemove(new KeyValuePair<string, string>(key, token));
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or OperationCanceledException)
            {
                failures++;
            }
        }

        return failures;
    }

    /// <summary>Whether a write must wait for its PostgreSQL copy; refused before anything is written when no store can give one.</summary>
    private bool IsSynchronous(KeyValueDurability durability, string operation)
    {
        if (!Enum.IsDefined(durability))
        {
            throw new ArgumentOutOfRangeException(nameof(durability), durability, "The durability must be Asynchronous or Synchronous.");
        }

        if (durability == KeyValueDurability.Asynchronous)
        {
            return false;
        }

        return _fallback.IsConfigured ? true : throw ExceptionFactory.NoDurableStore(operation);
    }

    private ValueTask MirrorAsync(string fullKey, byte[]? bytes, TimeSpan? timeToLive, bool synchronous, string operation, CancellationToken cancellationToken) =>
        synchronous
            ? _fallback.MirrorDurablyAsync(fullKey, bytes, timeToLive, operation, cancellationToken)
            : _fallback.MirrorAsync(fullKey, bytes, timeToLive, cancellationToken);

    /// <summary>
    /// After a miss in Redis: while a repair after a data loss is pending, the value the PostgreSQL mirror holds,
    /// restored into Redis unless a write made there since wins (KeyValueRepair.cs). Served as a Redis value.
    /// </summary>
    private async ValueTask<CoordinationValue<T>> ReadThroughAsync<T>(string fullKey, bool withTimeToLive, CancellationToken cancellationToken)
    {
        if (!_fallback.IsRepairing)
        {
            return default;
        }

        try
        {
            var (found, value, ttl) = await _fallback.ReadThroughAsync(fullKey, cancellationToken);
            return found ? new CoordinationValue<T>(Deserialize<T>(value), withTimeToLive ? ttl : null) : default;
        }
        catch (CoordinationUnavailableException ex) when (_fallback.Serves(ex))
        {
            return await GetFromFallbackAsync<T>(fullKey, "kv.get", ex, cancellationToken);
        }
    }

    private async ValueTask<CoordinationValue<T>> GetFromFallbackAsync<T>(string fullKey, string operation, Exception? cause, CancellationToken cancellationToken)
    {
        var (found, value, ttl) = await _fallback.GetAsync(fullKey, operation, cause, cancellationToken);
        return found ? new CoordinationValue<T>(Deserialize<T>(value), ttl, fromFallback: true) : default;
    }

    /// <summary>
    /// The tenant's key ledger (kv_quota_count.lua): a capability segment no caller's key can take, under a
    /// tenant-level hash tag.
    /// </summary>
    private RedisKey KeyLedger => _keyLedger ??= CoordinationKey.TenantTagged(_options.KeyPrefix, Tenant, "kv-ledger");

    /// <summary>
    /// Writes the key (answering whether it existed), then counts it in the tenant's ledger (another hash slot, so not in the same script); a key
    /// this write created over the quota is deleted again and refused. Writing first means the ledger is updated
    /// after every write it counts, so concurrent writes and deletes of a name can only leave it counted too often,
    /// never too rarely.
    /// </summary>
    private async ValueTask SetCountedAsync(string key, string fullKey, byte[] bytes, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        var ttl = timeToLive is { } span ? (long)span.TotalMilliseconds : 0;
        // SET ... GET: whether the key existed comes with the write (a plain command, cheaper for Redis than a script
        // around SET); the price is the old value on the wire.
        var previous = await _executor.ExecuteAsync(
            "kv.set",
            idempotent: true,
            static (db, s) => db.StringSetAndGetAsync(s.Key, s.Bytes, s.Ttl, keepTtl: false),
            (Key: (RedisKey)fullKey, Bytes: bytes, Ttl: timeToLive),
            cancellationToken);
        var existed = previous.IsNull ? "0" : "1";
        var limit = _options.Quotas.MaxKeysPerTenant;
        var counted = (long)await _executor.ExecuteAsync(
            "kv.count",
            idempotent: true,
            static (db, s) => RedisScript.KeyQuotaCount.EvaluateByShaAsync(db, [s.Ledger], [s.Name, s.Ttl, s.Limit, s.Existed]),
            (Ledger: KeyLedger, Name: key, Ttl: ttl, Limit: limit, Existed: existed),
            cancellationToken);
        if (counted == 0)
        {
            await _executor.ExecuteAsync(
                "kv.undo",
                idempotent: true,
                static (db, s) => RedisScript.KeyQuotaUndo.EvaluateByShaAsync(db, [s.Key], [s.Bytes]),
                (Key: (RedisKey)fullKey, Bytes: bytes),
                cancellationToken);
            _executor.Metrics.RecordQuotaRefused("keys");
            throw ExceptionFactory.KeyQuotaExceeded(limit);
        }
    }

    private string BuildKey(string capability, string name)
    {
        CoordinationKey.ValidateName(name, "key");
        return CoordinationKey.Build(_options.KeyPrefix, Tenant, capability, name);
    }

    private T? Deserialize<T>(ReadOnlyMemory<byte> bytes) => _serializer.Deserialize<T>(bytes.Span);

    /// <summary>Starts a span named <paramref name="spanName"/> (a constant: no string is built per call) for <paramref name="key"/>.</summary>
    private Activity? StartActivity(string spanName, string key)
    {
        var activity = CoordinationMetrics.ActivitySource.StartActivity(spanName, ActivityKind.Internal);
        activity?.SetTag("coordination.tenant", Tenant);
        activity?.SetTag("coordination.key", key);
        return activity;
    }

}
