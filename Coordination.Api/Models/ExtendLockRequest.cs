namespace Coordination.Api.Models;

/// <summary>The body of <c>POST /v1/locks/{name}/extend</c> (documentation only: the handler parses the body itself).</summary>
/// <param name="Token">The token the acquisition returned. Required.</param>
/// <param name="TtlMs">The new time to live from now, in milliseconds (1 .. 2592000000). Required.</param>
public sealed record ExtendLockRequest(string Token, long TtlMs);
