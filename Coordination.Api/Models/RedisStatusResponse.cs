namespace Coordination.Api.Models;

/// <summary>The link to Redis.</summary>
/// <param name="Connected">Whether a PING through the pool succeeded just now.</param>
/// <param name="LatencyMs">That PING's round trip in milliseconds; null when it failed.</param>
/// <param name="Pool">The connection pool.</param>
public sealed record RedisStatusResponse(bool Connected, double? LatencyMs, PoolStatusResponse Pool);
