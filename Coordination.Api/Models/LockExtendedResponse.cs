namespace Coordination.Api.Models;

/// <summary>The answer of <c>POST /v1/locks/{name}/extend</c>.</summary>
/// <param name="ExpiresAt">When the hold now expires unless extended again (Redis server time).</param>
public sealed record LockExtendedResponse(DateTimeOffset ExpiresAt);
