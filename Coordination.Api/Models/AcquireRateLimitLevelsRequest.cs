namespace Coordination.Api.Models;

/// <summary>The body of <c>POST /v1/ratelimit/acquire</c>, validated by the endpoint.</summary>
/// <param name="Levels">The levels to charge all or nothing: 1..8 of them, no (policy, key) twice, no <c>concurrency</c> policy. Required.</param>
/// <param name="Permits">How many permits to take from every level, at least 1; absent means 1.</param>
/// <param name="Priority"><c>normal</c> (absent) or <c>critical</c>: whether the request may use the critical reserve of every level.</param>
public sealed record AcquireRateLimitLevelsRequest(IReadOnlyList<RateLimitLevelRequest?>? Levels, long? Permits = null, string? Priority = null);

/// <summary>One level of <see cref="AcquireRateLimitLevelsRequest"/>.</summary>
/// <param name="Policy">The policy that limits this level: 1..64 letters, digits, '.', '_' or '-'. Required.</param>
/// <param name="Key">What this level limits (the tenant as a whole, a user, an endpoint): 1..512 UTF-8 bytes, no control characters. Required.</param>
public sealed record RateLimitLevelRequest(string? Policy, string? Key);
