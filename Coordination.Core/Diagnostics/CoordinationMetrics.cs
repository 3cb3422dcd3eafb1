using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>The instruments of the <c>Coordination</c> meter. Tags never carry keys, names or tenants.</summary>
internal sealed class CoordinationMetrics
{
    public static readonly ActivitySource ActivitySource = new(CoordinationDiagnostics.ActivitySourceName);

    private readonly Counter<long> _operations;
    private readonly Histogram<double> _duration;
    private readonly Counter<long> _events;
    private readonly Counter<long> _fallbackOperations;
    private readonly Histogram<double> _lockAcquireDuration;
    private readonly UpDownCounter<long> _locksHeld;
    private readonly Counter<long> _combinedReads;
    private readonly Counter<long> _combinedWrites;
    private readonly Counter<long> _quotaRefusals;

    public CoordinationMetrics(IMeterFactory meterFactory)
    {
        Meter = meterFactory.Create(CoordinationDiagnostics.MeterName);
        _operations = Meter.CreateCounter<long>("coordination.redis.operations", "{operation}", "Redis operations by outcome.");
        _duration = Meter.CreateHistogram<double>("coordination.redis.operation.duration", "s", "Duration of Redis operations, retries included.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _events = Meter.CreateCounter<long>("coordination.events", "{event}", "Connection, circuit and fallback state changes.");
        _fallbackOperations = Meter.CreateCounter<long>("coordination.fallback.operations", "{operation}", "Key/value operations served by the PostgreSQL fallback store.");
        _lockAcquireDuration = Meter.CreateHistogram<double>("coordination.lock.acquire.duration", "s", "Time to acquire a lock, waiting included, by kind and result.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _combinedReads = Meter.CreateCounter<long>("coordination.redis.reads.combined", "{read}", "Reads that went to Redis together with others in one MGET, by operation.");
        _combinedWrites = Meter.CreateCounter<long>("coordination.redis.writes.combined", "{write}", "Key/value writes and cache entry writes (coordination.operation kv.write|cache.set) that went to Redis together with others in one command.");
        _quotaRefusals = Meter.CreateCounter<long>("coordination.quota.refusals", "{call}", "Calls refused because the tenant was at a quota, by quota.");
        _locksHeld = Meter.CreateUpDownCounter<long>("coordination.lock.held", "{lock}", "Locks this process holds through handles.");
    }

    public Meter Meter { get; }

    public void RecordOperation(string operation, string outcome, long startTimestamp)
    {
        var operationTag = new KeyValuePair<string, object?>("coordination.operation", operation);
        _operations.Add(1, operationTag, new KeyValuePair<string, object?>("coordination.outcome", outcome));
        _duration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, operationTag, new KeyValuePair<string, object?>("coordination.outcome", outcome));
    }

    public void RecordReadsCombined(string operation, int reads) =>
        _combinedReads.Add(reads, new KeyValuePair<string, object?>("coordination.operation", operation));

    public void RecordWritesCombined(int writes, string operation = "kv.write") =>
        _combinedWrites.Add(writes, new KeyValuePair<string, object?>("coordination.operation", operation));

    public void RecordEvent(string name) => _events.Add(1, new KeyValuePair<string, object?>("coordination.event", name));

    /// <summary>Records one acquisition attempt: <paramref name="kind"/> exclusive|read|semaphore|multi; <paramref name="result"/> acquired|busy|timeout|deadlock|hierarchy|unavailable|canceled.</summary>
    public void RecordLockAcquire(string kind, string result, long startTimestamp) =>
        _lockAcquireDuration.Record(
            Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds,
            new KeyValuePair<string, object?>("coordination.lock.kind", kind),
            new KeyValuePair<string, object?>("coordination.lock.result", result));

    public void RecordLockHeld(int delta) => _locksHeld.Add(delta);

    public void RecordFallback(string operation) => _fallbackOperations.Add(1, new KeyValuePair<string, object?>("coordination.operation", operation));

    /// <summary>Records a call refused at a tenant's quota: <paramref name="quota"/> is <c>keys</c> or <c>lock-names</c> (the tenant is never a tag).</summary>
    public void RecordQuotaRefused(string quota) => _quotaRefusals.Add(1, new KeyValuePair<string, object?>("coordination.quota", quota));
}
