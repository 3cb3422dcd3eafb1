namespace Coordination;

/// <summary>An entry of the memory level: the deserialized value and the stamps that decide whether it may be served.</summary>
/// <remarks>Times are milliseconds of the Redis clock (as estimated by <see cref="CacheRuntime.NowMs"/>).</remarks>
internal sealed class CacheItem(object? value, in StoredEntryInfo info, long memoryExpires, long size)
{
    public object? Value { get; } = value;

    /// <summary>When the entry was created (server time): it is invalid when a tag or prefix stamp is not older.</summary>
    public long Created { get; } = info.Created;

    /// <summary>The end of the entry's time to live.</summary>
    public long Expires { get; } = info.Expires;

    /// <summary>The end of the fail-safe window: until then the value may be served stale.</summary>
    public long HardExpires { get; } = info.HardExpires;

    /// <summary>Until when the memory level serves the value without asking Redis.</summary>
    public long MemoryExpires { get; } = memoryExpires;

    public int ComputeMilliseconds { get; } = info.ComputeMilliseconds;

    public string[] Tags { get; } = info.Tags;

    public long Sliding { get; } = info.Sliding;

    public long Size { get; } = size;

    /// <summary>Approximate recency for eviction (Environment.TickCount64; racy writes are fine).</summary>
    public long LastAccess { get; set; } = Environment.TickCount64;
}
