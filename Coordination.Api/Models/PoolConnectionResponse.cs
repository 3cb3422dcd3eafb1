namespace Coordination.Api.Models;

/// <summary>One pooled Redis connection.</summary>
/// <param name="Id">The pool's number for the connection.</param>
/// <param name="Connected">Whether it is connected now.</param>
/// <param name="Outstanding">Operations in flight on it.</param>
/// <param name="Operations">Operations it has carried.</param>
/// <param name="Failures">Operations that failed on it.</param>
/// <param name="LastPingMs">The round trip of its last successful heartbeat, in milliseconds.</param>
/// <param name="ForcedReconnects">How often it was replaced after a stall.</param>
public sealed record PoolConnectionResponse(
    int Id,
    bool Connected,
    int Outstanding,
    long Operations,
    long Failures,
    double? LastPingMs,
    int ForcedReconnects);
