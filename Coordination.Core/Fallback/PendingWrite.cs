namespace Coordination;

/// <summary>A write made while Redis was unavailable, waiting to be replayed to it.</summary>
/// <param name="Key">The full Redis key.</param>
/// <param name="Value">The value, or <see langword="null"/> for a delete.</param>
/// <param name="TimeToLive">The remaining TTL; <see langword="null"/> when the key never expires.</param>
/// <param name="Expired">Whether the value expired before it could be replayed.</param>
/// <param name="Version">The row version, so that a newer write is never cleared by an older replay.</param>
internal sealed record PendingWrite(string Key, byte[]? Value, TimeSpan? TimeToLive, bool Expired, long Version);
