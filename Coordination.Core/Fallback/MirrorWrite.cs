namespace Coordination;

/// <summary>A write already made in Redis, to be copied to PostgreSQL.</summary>
/// <param name="Key">The full Redis key.</param>
/// <param name="Value">The value, or <see langword="null"/> for a delete.</param>
/// <param name="TimeToLive">The TTL it was written with.</param>
internal sealed record MirrorWrite(string Key, byte[]? Value, TimeSpan? TimeToLive)
{
    /// <summary>The bytes it holds in the mirror queue (key and value), counted against the queue's byte bound.</summary>
    public long Size { get; } = System.Text.Encoding.UTF8.GetByteCount(Key) + (Value?.LongLength ?? 0);
}
