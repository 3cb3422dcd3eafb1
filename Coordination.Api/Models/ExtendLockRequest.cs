namespace Coordination.Api.Models;

/// <summary>The body of <c>POST /v1/locks/{name}/extend</c>, bound by the endpoint and validated by it.</summary>
/// <param name="Token">The token the acquisition returned. Required.</param>
/// <param name="TtlMs">The new time to live from now, in milliseconds (1 .. 2592000000). Required.</param>
public sealed record ExtendLockRequest(string? Token, long? TtlMs);
