using System.Globalization;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Tag and prefix invalidation: <c>cache_stamp.lua</c> stamps the names with the Redis clock in the tenant's bounded
/// stamp set, and every replica keeps the stamps it loaded or was told of in <see cref="InvalidationStamps"/>, bounded
/// by the same rules.
/// </summary>
internal sealed partial class RedisCacheManager
{
    private const char StampSeparator = '\u001f';
    private static readonly long StampRetentionMs = (long)InvalidationStamps.StampRetention.TotalMilliseconds;
    private readonly RedisKey[] _stampKeys;
    private readonly InvalidationStamps _stamps;
    private volatile bool _stampsLoaded;
    private int _stampsCapped;

    /// <summary>The stamps this replica knows (tests look at their bound).</summary>
    internal InvalidationStamps Stamps => _stamps;

    /// <summary>
    /// The stamp set, the floor and the hash of earlier versions (<c>{prefix}:{tenant}:cache-stamps</c>, migrated on
    /// first use). The legacy name has no hash tag, so the new keys take it whole as theirs: all three share a slot.
    /// </summary>
    internal static RedisKey[] StampKeys(string keyPrefix, string tenant)
    {
        var legacy = CoordinationKey.Build(keyPrefix, tenant, "cache-stamps", string.Empty).TrimEnd(':');
        return [$"{{{legacy}}}:stamps", $"{{{legacy}}}:floor", legacy];
    }

    private async ValueTask StampAsync(string[] names, bool isPrefix, CancellationToken cancellationToken)
    {
        // A miss answered before this call may still be writing its entry: it lands first, so the stamp covers it.
        await WaitForBackgroundWritesAsync(cancellationToken);
        var marker = isPrefix ? "p:" : "t:";
        var arguments = new RedisValue[names.Length + 3];
        arguments[0] = StampRetentionMs;
        arguments[1] = _runtime.Options.MaxStampsPerTenant;
        arguments[2] = 0;
        for (var i = 0; i < names.Length; i++)
        {
            arguments[i + 3] = marker + names[i];
        }

        var result = await _runtime.Executor.ExecuteAsync(
            isPrefix ? "cache.invalidate.prefix" : "cache.invalidate.tags",
            idempotent: true,
            static async (db, s) =>
            {
                var parts = (RedisResult[])(await RedisScript.CacheStamp.EvaluateAsync(db, s.Keys, s.Arguments))!;
                var stamp = (long)parts[0];
                await s.Runtime.AppendLogAsync(db, s.Kind, s.Tenant, string.Concat(stamp.ToString(CultureInfo.InvariantCulture), StampSeparator.ToString(), string.Join(StampSeparator, s.Names)));
                return (Stamp: stamp, Floor: (long)parts[1], Folded: (long)parts[2]);
            },
            (Keys: _stampKeys, Arguments: arguments, Runtime: _runtime, Kind: isPrefix ? "p" : "t", Tenant, Names: names),
            cancellationToken);
        _runtime.Clock.Observe(result.Stamp);
        ApplyFloor(result.Floor, result.Folded, "l2");
        foreach (var name in names)
        {
            ApplyStamp(name, result.Stamp, isPrefix);
        }

        _runtime.Metrics.Invalidation(isPrefix ? "prefix" : "tag", "local");
    }

    private bool IsInvalidated(string key, long created, string[] tags, long now) => _stamps.IsInvalidated(key, created, tags, now);

    /// <summary>Loads the tenant's stamps and floor once (again after the memory level was cleared); at most the stamp bound.</summary>
    private async ValueTask LoadStampsAsync(CancellationToken cancellationToken)
    {
        RedisResult result;
        try
        {
            result = await _runtime.Executor.ExecuteAsync(
                "cache.stamps",
                idempotent: true,
                static (db, s) => RedisScript.CacheStamp.EvaluateByShaAsync(db, s.Keys, [StampRetentionMs, s.Limit, 1]),
                (Keys: _stampKeys, Limit: _runtime.Options.MaxStampsPerTenant),
                cancellationToken);
        }
        catch (CoordinationUnavailableException)
        {
            return; // The read that follows reports it; stamps are loaded at the next read.
        }

        var parts = (RedisResult[])result!;
        _runtime.Clock.Observe((long)parts[0]);
        ApplyFloor((long)parts[1], (long)parts[2], "l2");
        for (var i = 3; i + 1 < parts.Length; i += 2)
        {
            var member = (string)parts[i]!;
            ApplyStamp(member[2..], (long)(double)parts[i + 1], isPrefix: member.StartsWith("p:", StringComparison.Ordinal));
        }

        _stampsLoaded = true;
    }

    private void ApplyFloor(long floor, long foldedInRedis, string level)
    {
        if (floor > _stamps.Floor)
        {
            Interlocked.Increment(ref _epoch);
            DropAnsweredFlights();
            _stamps.ApplyFloor(floor);
        }

        NoteFolded(foldedInRedis, level);
    }

    private void ApplyStamp(string name, long stamp, bool isPrefix)
    {
        Interlocked.Increment(ref _epoch);
        DropAnsweredFlights();
        NoteFolded(_stamps.Apply(name, isPrefix, stamp, _runtime.NowMs()), "l1");
    }

    /// <summary>Counts folded stamps and logs when the tenant reaches the bound (once until a call folds none).</summary>
    private void NoteFolded(long folded, string level)
    {
        if (folded <= 0)
        {
            if (level == "l2")
            {
                Volatile.Write(ref _stampsCapped, 0);
            }

            return;
        }

        _runtime.Metrics.StampsFolded(folded, level);
        if (Interlocked.Exchange(ref _stampsCapped, 1) == 0)
        {
            CachingLog.StampsCapped(_runtime.Logger, _runtime.Options.MaxStampsPerTenant);
            CachingLog.StampsCappedTenant(_runtime.Logger, Tenant);
        }
    }

    /// <summary>A backplane message: <c>{stamp}\u001f{name}\u001f{name}...</c>.</summary>
    internal void OnStampsInvalidated(string argument, bool isPrefix)
    {
        var parts = argument.Split(StampSeparator);
        if (parts.Length < 2 || !long.TryParse(parts[0], CultureInfo.InvariantCulture, out var stamp))
        {
            return;
        }

        for (var i = 1; i < parts.Length; i++)
        {
            ApplyStamp(parts[i], stamp, isPrefix);
        }
    }
}
