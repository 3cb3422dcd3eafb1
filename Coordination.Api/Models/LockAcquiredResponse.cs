namespace Coordination.Api.Models;

/// <summary>The answer of <c>POST /v1/locks/{name}</c>.</summary>
/// <param name="Name">The lock name.</param>
/// <param name="Token">The hold's secret token: extend and release the lock with it.</param>
/// <param name="FencingToken">Strictly greater than every fencing token issued before for the name; pass it to the resources the lock guards.</param>
/// <param name="ExpiresAt">When the hold expires unless extended (Redis server time).</param>
public sealed record LockAcquiredResponse(string Name, string Token, long FencingToken, DateTimeOffset ExpiresAt);
