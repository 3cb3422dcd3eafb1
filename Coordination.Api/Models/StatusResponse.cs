namespace Coordination.Api.Models;

/// <summary>The answer of <c>GET /v1/status</c>. Carries no secrets, keys, tenant names or stored data.</summary>
/// <param name="Redis">The link to Redis.</param>
/// <param name="Circuit"><c>closed</c>, <c>open</c>, <c>half-open</c> or <c>isolated</c>.</param>
/// <param name="Fallback">The PostgreSQL fallback.</param>
/// <param name="Version">The service's version.</param>
public sealed record StatusResponse(RedisStatusResponse Redis, string Circuit, FallbackStatusResponse Fallback, string Version);
