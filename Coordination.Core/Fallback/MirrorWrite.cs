using System.Diagnostics;

namespace Coordination;

/// <summary>A write already made in Redis, to be copied to PostgreSQL.</summary>
/// <param name="Key">The full Redis key.</param>
/// <param name="Value">The value, or <see langword="null"/> for a delete.</param>
/// <param name="TimeToLive">The TTL it was written with.</param>
internal sealed record MirrorWrite(string Key, byte[]? Value, TimeSpan? TimeToLive)
{
    /// <summary>The bytes it holds in the mirror queue (key and value), counted against the queue's byte bound.</summary>
    public long Size { get; } = System.Text.Encoding.UTF8.GetByteCount(Key) + (Value?.LongLength ?? 0);

    /// <summary>When it was made in Redis (<see cref="Stopwatch"/> ticks): its TTL runs from then, not from its copy.</summary>
    public long MadeAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>Completed when PostgreSQL committed the copy, for a <see cref="KeyValueDurability.Synchronous"/> writer who waits for it.</summary>
    public TaskCompletionSource? Committed { get; init; }

    /// <summary>The TTL left at <paramref name="timestamp"/>: the copy expires when the Redis key does, however long it queued.</summary>
    public TimeSpan? TimeToLiveAt(long timestamp) =>
        TimeToLive is { } ttl ? TimeSpan.FromTicks(Math.Max(0, ttl.Ticks - Stopwatch.GetElapsedTime(MadeAt, timestamp).Ticks)) : null;
}
