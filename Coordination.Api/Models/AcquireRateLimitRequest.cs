namespace Coordination.Api.Models;

/// <summary>The body of <c>POST /v1/ratelimit/{policy}/acquire</c>, validated by the endpoint.</summary>
/// <param name="Key">What is limited (a user, a client, an endpoint): 1..512 UTF-8 bytes, no control characters. Required.</param>
/// <param name="Permits">How many permits to take, at least 1; absent means 1. More than the limit is refused, never admitted.</param>
/// <param name="Priority"><c>normal</c> (absent) or <c>critical</c>: how much the request matters when capacity runs short.</param>
public sealed record AcquireRateLimitRequest(string? Key, long? Permits = null, string? Priority = null);
