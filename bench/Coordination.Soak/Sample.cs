namespace Coordination.Soak;

/// <summary>
/// One reading of the run. Rates and error counts are of the interval since the previous sample; the rest are the
/// values at the time of the sample. <see cref="GcHeapBytes"/> is <see cref="GC.GetTotalMemory(bool)"/> without a
/// forced collection (live objects plus the garbage since the last collection: a saw-tooth);
/// <see cref="OldGenerationBytes"/> is gen2 + large + pinned object heaps as the last full (background or blocking)
/// collection left them: what survives every collection, where a leak ends up. Connection counts are null where there is nothing to count (no PostgreSQL).
/// </summary>
internal sealed record Sample(
    TimeSpan Elapsed,
    double OperationsPerSecond,
    long Errors,
    long WorkingSetBytes,
    long GcHeapBytes,
    long OldGenerationBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    int Threads,
    int? PoolConnections,
    long RedisClients,
    long RedisUsedMemoryBytes,
    long? PostgresConnections);
