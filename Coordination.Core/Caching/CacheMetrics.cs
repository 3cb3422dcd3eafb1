using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>The cache instruments of the <c>Coordination</c> meter. Tags never carry keys, tags or tenants.</summary>
internal sealed class CacheMetrics
{
    /// <summary>Eviction reasons: past the memory or fail-safe time, over the tenant's share, over the level's limit.</summary>
    public const string EvictedExpired = "expired";

    public const string EvictedOverShare = "share";

    public const string EvictedOverLimit = "limit";

    private static readonly KeyValuePair<string, object?> L1 = new("coordination.cache.level", "l1");
    private static readonly KeyValuePair<string, object?> L2 = new("coordination.cache.level", "l2");
    private static readonly KeyValuePair<string, object?> Hit = new("coordination.cache.result", "hit");
    private static readonly KeyValuePair<string, object?> Miss = new("coordination.cache.result", "miss");
    private static readonly KeyValuePair<string, object?> Success = new("coordination.cache.result", "success");
    private static readonly KeyValuePair<string, object?> Failure = new("coordination.cache.result", "failure");
    private readonly Counter<long> _requests;
    private readonly Counter<long> _factoryCalls;
    private readonly Counter<long> _stampedes;
    private readonly Counter<long> _invalidations;
    private readonly Counter<long> _compressionSaved;
    private readonly Counter<long> _staleServed;
    private readonly Counter<long> _memoryEvictions;
    private readonly Counter<long> _memoryRejected;
    private readonly Counter<long> _writeBehindFlushed;
    private readonly Counter<long> _writeBehindFailures;
    private readonly UpDownCounter<long> _writeBehindPending;
    private readonly Counter<long> _warmedKeys;
    private readonly Counter<long> _stampsFolded;
    private readonly Counter<long> _backgroundWrites;
    private readonly Counter<long> _backgroundWaited;

    public CacheMetrics(Meter meter, Func<long>? memoryBytes = null)
    {
        _requests = meter.CreateCounter<long>("coordination.cache.requests", "{request}", "Cache lookups by level (l1|l2) and result (hit|miss).");
        _factoryCalls = meter.CreateCounter<long>("coordination.cache.factory.calls", "{call}", "Factory calls by result (success|failure|timeout).");
        _stampedes = meter.CreateCounter<long>("coordination.cache.stampedes.suppressed", "{request}", "Requests that joined another request's factory call instead of starting their own.");
        _invalidations = meter.CreateCounter<long>("coordination.cache.invalidations", "{invalidation}", "Invalidations by kind (key|tag|prefix|clear) and origin (local|remote|log).");
        _compressionSaved = meter.CreateCounter<long>("coordination.cache.compression.saved", "By", "Bytes compression saved on values written to Redis.");
        _staleServed = meter.CreateCounter<long>("coordination.cache.failsafe.served", "{request}", "Stale values served by fail-safe.");
        _memoryEvictions = meter.CreateCounter<long>("coordination.cache.memory.evictions", "{entry}", "Entries evicted from the memory level, by reason (expired|share|limit).");
        _memoryRejected = meter.CreateCounter<long>("coordination.cache.memory.rejected", "{entry}", "Values not kept in the memory level because they are larger than an entry may be.");
        if (memoryBytes is not null)
        {
            meter.CreateObservableGauge("coordination.cache.memory.size", memoryBytes, "By", "Bytes the memory level's entries are charged (what their values hold).");
        }
        _writeBehindFlushed = meter.CreateCounter<long>("coordination.cache.writebehind.flushed", "{write}", "Write-behind writes the writer accepted.");
        _writeBehindFailures = meter.CreateCounter<long>("coordination.cache.writebehind.failures", "{batch}", "Write-behind batches the writer failed (each is retried).");
        _writeBehindPending = meter.CreateUpDownCounter<long>("coordination.cache.writebehind.pending", "{write}", "Write-behind writes acknowledged and not yet written.");
        _stampsFolded = meter.CreateCounter<long>("coordination.cache.stamps.folded", "{stamp}", "Tag and prefix stamps folded into a tenant's floor to keep its stamps within MaxStampsPerTenant, by level (l1: a replica's table, l2: Redis).");
        _backgroundWrites = meter.CreateCounter<long>("coordination.cache.background.writes", "{write}", "Redis writes of get-or-create misses made after the callers got their value, by result (success|failure).");
        _backgroundWaited = meter.CreateCounter<long>("coordination.cache.background.waited", "{write}", "Get-or-create misses that waited for their Redis write because BackgroundWrites writes were pending.");
        _warmedKeys = meter.CreateCounter<long>("coordination.cache.warming.keys", "{key}", "Keys written by cache warming, by kind (warmer|hot).");
    }

    public void MemoryHit() => _requests.Add(1, L1, Hit);

    public void MemoryMiss() => _requests.Add(1, L1, Miss);

    public void RedisHit() => _requests.Add(1, L2, Hit);

    public void RedisMiss() => _requests.Add(1, L2, Miss);

    public void FactoryCall(string result) => _factoryCalls.Add(1, new KeyValuePair<string, object?>("coordination.cache.result", result));

    public void StampedeSuppressed() => _stampedes.Add(1);

    public void Invalidation(string kind, string origin) =>
        _invalidations.Add(1, new KeyValuePair<string, object?>("coordination.cache.kind", kind), new KeyValuePair<string, object?>("coordination.cache.origin", origin));

    public void CompressionSaved(long bytes) => _compressionSaved.Add(bytes);

    public void StaleServed() => _staleServed.Add(1);

    public void MemoryEvicted(long count, string reason)
    {
        if (count > 0)
        {
            _memoryEvictions.Add(count, new KeyValuePair<string, object?>("coordination.cache.eviction.reason", reason));
        }
    }

    public void MemoryRejected() => _memoryRejected.Add(1);

    public void WriteBehindQueued(long count) => _writeBehindPending.Add(count);

    public void WriteBehindFlushed(long count)
    {
        _writeBehindFlushed.Add(count);
        _writeBehindPending.Add(-count);
    }

    public void WriteBehindFailed() => _writeBehindFailures.Add(1);

    public void Warmed(long count, string kind) => _warmedKeys.Add(count, new KeyValuePair<string, object?>("coordination.cache.warming.kind", kind));

    public void BackgroundWrite(bool succeeded) => _backgroundWrites.Add(1, succeeded ? Success : Failure);

    public void BackgroundWaited() => _backgroundWaited.Add(1);

    public void StampsFolded(long count, string level) => _stampsFolded.Add(count, level == "l1" ? L1 : L2);
}
