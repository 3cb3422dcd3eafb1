namespace Coordination;

/// <summary>A snapshot of one pooled Redis connection.</summary>
/// <param name="Id">The pool's number for the connection.</param>
/// <param name="Endpoint">The Redis endpoint it is connected to, when known.</param>
/// <param name="Connected">Whether it is connected now.</param>
/// <param name="Outstanding">Operations in flight on it now.</param>
/// <param name="Operations">Operations it has carried.</param>
/// <param name="Failures">Operations that failed on it.</param>
/// <param name="LastPingMilliseconds">The round trip of its last successful heartbeat.</param>
/// <param name="ForcedReconnects">How often it was replaced after a stall.</param>
public sealed record ConnectionStatus(
    int Id,
    string? Endpoint,
    bool Connected,
    int Outstanding,
    long Operations,
    long Failures,
    double? LastPingMilliseconds,
    int ForcedReconnects);
