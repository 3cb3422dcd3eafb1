namespace Coordination.Api.Models;

/// <summary>The answer of <c>DELETE /v1/users/{userId}/sessions</c>.</summary>
/// <param name="Revoked">How many live sessions were ended.</param>
public sealed record RevokedSessionsResponse(int Revoked);
