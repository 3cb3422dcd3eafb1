namespace Coordination.Soak;

/// <summary>
/// One reading of the run. Rates and error counts are of the interval since the previous sample; the rest are the
/// values at the time of the sample. <see cref="GcHeapBytes"/> is <see cref="GC.GetTotalMemory(bool)"/> without a
/// forced collection (live objects plus the garbage since the last collection: a saw-tooth);
/// <see cref="HeapAfterGcBytes"/> is the heap as the last collection left it (<see cref="GCMemoryInfo.HeapSizeBytes"/>). Connection counts are null where there is nothing to count (no PostgreSQL).
/// </summary>
internal sealed record Sample(
    TimeSpan Elapsed,
    double OperationsPerSecond,
    long Errors,
    long WorkingSetBytes,
    long GcHeapBytes,
    long HeapAfterGcBytes,
    int Gen0,
    int Gen1,
    int Gen2,
    int Threads,
    int? PoolConnections,
    long RedisClients,
    long RedisUsedMemoryBytes,
    long? PostgresConnections);
