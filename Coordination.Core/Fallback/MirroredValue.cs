namespace Coordination;

/// <summary>A live value of the PostgreSQL mirror, as the repair after a Redis data loss restores it.</summary>
/// <param name="Key">The full Redis key.</param>
/// <param name="Value">The value.</param>
/// <param name="TimeToLive">What is left of its TTL by PostgreSQL's clock; <see langword="null"/> when it never expires.</param>
internal sealed record MirroredValue(string Key, byte[] Value, TimeSpan? TimeToLive);
