using System.Buffers;
using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using StackExchange.Redis;

namespace Coordination;

/// <summary>The Redis implementation of <see cref="IRedisCoordinator"/> for one tenant.</summary>
internal sealed class RedisCoordinator : IRedisCoordinator
{
    private const string KeyValueCapability = "kv";
    private const string LockCapability = "lock";
    private static readonly TimeSpan MaxTimeToLive = TimeSpan.FromDays(30);

    private readonly CoordinationOptions _options;
    private readonly ICoordinationSerializer _serializer;
    private readonly RedisExecutor _executor;
    private readonly KeyValueFallback _fallback;
    private readonly ConcurrentDictionary<string, string> _heldLocks = new(StringComparer.Ordinal);

    public RedisCoordinator(string tenant, CoordinationOptions options, ICoordinationSerializer serializer, RedisExecutor executor, KeyValueFallback fallback)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        Tenant = tenant;
        _options = options;
        _serializer = serializer;
        _executor = executor;
        _fallback = fallback;
    }

    public string Tenant { get; }

    /// <summary>The locks this coordinator holds (full keys), for release at shutdown.</summary>
    public int HeldLockCount => _heldLocks.Count;

    public async ValueTask SetAsync<T>(string key, T value, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        var fullKey = BuildKey(KeyValueCapability, key);
        ValidateTimeToLive(timeToLive, nameof(timeToLive));
        var bytes = Serialize(value, nameof(value));
        using var activity = StartActivity("kv.set", key);

        if (_fallback.IsActive && await _fallback.TrySetAsync(fullKey, bytes, timeToLive, "kv.set", cancellationToken))
        {
            return;
        }

        try
        {
            await _executor.ExecuteAsync(
                "kv.set",
                idempotent: true,
                static (db, s) => db.StringSetAsync(s.Key, s.Bytes, s.Ttl, When.Always),
                (Key: (RedisKey)fullKey, Bytes: bytes, Ttl: timeToLive),
                cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (_fallback.IsConfigured)
        {
            await _fallback.SetAsync(fullKey, bytes, timeToLive, "kv.set", ex, cancellationToken);
            return;
        }

        await _fallback.MirrorAsync(fullKey, bytes, timeToLive, cancellationToken);
    }

    public async ValueTask<CoordinationValue<T>> GetAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = BuildKey(KeyValueCapability, key);
        using var activity = StartActivity("kv.get", key);
        if (_fallback.IsActive)
        {
            return await GetFromFallbackAsync<T>(fullKey, "kv.get", null, cancellationToken);
        }

        RedisValue stored;
        try
        {
            stored = await _executor.ExecuteAsync("kv.get", idempotent: true, static (db, k) => db.StringGetAsync(k), (RedisKey)fullKey, cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (_fallback.IsConfigured)
        {
            return await GetFromFallbackAsync<T>(fullKey, "kv.get", ex, cancellationToken);
        }

        return stored.IsNull ? default : new CoordinationValue<T>(Deserialize<T>((ReadOnlyMemory<byte>)stored));
    }

    public async ValueTask<CoordinationValue<T>> GetWithTimeToLiveAsync<T>(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = BuildKey(KeyValueCapability, key);
        using var activity = StartActivity("kv.get", key);
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
                static (db, k) => RedisScript.GetWithTtl.EvaluateAsync(db, [k], []),
                (RedisKey)fullKey,
                cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (_fallback.IsConfigured)
        {
            return await GetFromFallbackAsync<T>(fullKey, "kv.get", ex, cancellationToken);
        }

        var parts = (RedisResult[])result!;
        if (parts[0].IsNull)
        {
            return default;
        }

        var pttl = (long)parts[1];
        TimeSpan? ttl = pttl >= 0 ? TimeSpan.FromMilliseconds(pttl) : null;
        return new CoordinationValue<T>(Deserialize<T>((ReadOnlyMemory<byte>)(RedisValue)parts[0]), ttl);
    }

    public async ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = BuildKey(KeyValueCapability, key);
        using var activity = StartActivity("kv.delete", key);
        if (_fallback.IsActive && await _fallback.TrySetAsync(fullKey, null, null, "kv.delete", cancellationToken))
        {
            return true;
        }

        bool existed;
        try
        {
            existed = await _executor.ExecuteAsync("kv.delete", idempotent: true, static (db, k) => db.KeyDeleteAsync(k), (RedisKey)fullKey, cancellationToken);
        }
        catch (CoordinationUnavailableException ex) when (_fallback.IsConfigured)
        {
            await _fallback.SetAsync(fullKey, null, null, "kv.delete", ex, cancellationToken);
            return true;
        }

        await _fallback.MirrorAsync(fullKey, null, null, cancellationToken);
        return existed;
    }

    public async ValueTask<bool> LockAsync(string key, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        var fullKey = BuildKey(LockCapability, key);
        ValidateTimeToLive(timeToLive, nameof(timeToLive));
        var ttl = timeToLive ?? _options.DefaultLockTtl;
        using var activity = StartActivity("lock.acquire", key);

        var held = _heldLocks.TryGetValue(fullKey, out var token);
        token ??= NewToken();
        var acquired = await _executor.ExecuteAsync(
            "lock.acquire",
            idempotent: false,
            static (db, s) => RedisScript.LockAcquire.EvaluateAsync(db, [s.Key], [s.Token, (long)Math.Ceiling(s.Ttl.TotalMilliseconds)]),
            (Key: (RedisKey)fullKey, Token: token, Ttl: ttl),
            cancellationToken);

        if ((long)acquired == 1)
        {
            _heldLocks[fullKey] = token;
            return true;
        }

        if (held)
        {
            // Our hold expired and someone else took the lock since.
            _heldLocks.TryRemove(new KeyValuePair<string, string>(fullKey, token));
        }

        return false;
    }

    public async ValueTask<bool> UnlockAsync(string key, CancellationToken cancellationToken = default)
    {
        var fullKey = BuildKey(LockCapability, key);
        using var activity = StartActivity("lock.release", key);
        if (!_heldLocks.TryGetValue(fullKey, out var token))
        {
            return false;
        }

        var released = await ReleaseAsync(fullKey, token, cancellationToken);
        _heldLocks.TryRemove(new KeyValuePair<string, string>(fullKey, token));
        return released;
    }

    /// <summary>Releases every lock this coordinator holds; returns how many could not be released.</summary>
    public async Task<int> ReleaseAllAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        foreach (var (fullKey, token) in _heldLocks.ToArray())
        {
            try
            {
                await ReleaseAsync(fullKey, token, cancellationToken);
                _heldLocks.TryRemove(new KeyValuePair<string, string>(fullKey, token));
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or OperationCanceledException)
            {
                failures++;
            }
        }

        return failures;
    }

    private async Task<bool> ReleaseAsync(string fullKey, string token, CancellationToken cancellationToken)
    {
        var released = await _executor.ExecuteAsync(
            "lock.release",
            idempotent: false,
            static (db, s) => RedisScript.LockRelease.EvaluateAsync(db, [s.Key], [s.Token]),
            (Key: (RedisKey)fullKey, Token: token),
            cancellationToken);
        return (long)released == 1;
    }

    private async ValueTask<CoordinationValue<T>> GetFromFallbackAsync<T>(string fullKey, string operation, Exception? cause, CancellationToken cancellationToken)
    {
        var (found, value, ttl) = await _fallback.GetAsync(fullKey, operation, cause, cancellationToken);
        return found ? new CoordinationValue<T>(Deserialize<T>(value), ttl, fromFallback: true) : default;
    }

    private string BuildKey(string capability, string name)
    {
        CoordinationKey.ValidateName(name, "key");
        return CoordinationKey.Build(_options.KeyPrefix, Tenant, capability, name);
    }

    private byte[] Serialize<T>(T value, string parameterName)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        _serializer.Serialize(value, buffer);
        if (buffer.WrittenCount > _options.MaxValueBytes)
        {
            throw new ArgumentException($"The serialized value is {buffer.WrittenCount} bytes; at most {_options.MaxValueBytes} are allowed.", parameterName);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private T? Deserialize<T>(ReadOnlyMemory<byte> bytes) => _serializer.Deserialize<T>(bytes.Span);

    private Activity? StartActivity(string operation, string key)
    {
        var activity = CoordinationMetrics.ActivitySource.StartActivity("coordination " + operation, ActivityKind.Internal);
        activity?.SetTag("coordination.tenant", Tenant);
        activity?.SetTag("coordination.key", key);
        return activity;
    }

    internal static void ValidateTimeToLive(TimeSpan? timeToLive, string parameterName)
    {
        if (timeToLive is { } ttl && (ttl < TimeSpan.FromMilliseconds(1) || ttl > MaxTimeToLive))
        {
            throw new ArgumentOutOfRangeException(parameterName, ttl, "The time to live must be between 1 millisecond and 30 days.");
        }
    }

    private static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(16));
}
