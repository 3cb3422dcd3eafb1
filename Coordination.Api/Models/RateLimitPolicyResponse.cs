namespace Coordination.Api.Models;

/// <summary>The answer of <c>GET /v1/ratelimit/policies/{policy}</c>: the policy as it applies to the caller's tenant.</summary>
/// <param name="Policy">The policy's name.</param>
/// <param name="Algorithm">How permits are counted (<c>fixed-window</c>, <c>sliding-window</c>, <c>sliding-log</c>, <c>token-bucket</c>, <c>gcra</c>, <c>concurrency</c>).</param>
/// <param name="Limit">Permits per period (for <c>concurrency</c>: leases held at once).</param>
/// <param name="PeriodMs">The window, refill period or lease lifetime in milliseconds.</param>
/// <param name="Burst">The bucket's capacity or the burst; null when it is <c>limit</c>.</param>
/// <param name="Adaptive">Whether the effective limit follows the health signal.</param>
public sealed record RateLimitPolicyResponse(string Policy, string Algorithm, long Limit, long PeriodMs, long? Burst, bool Adaptive);
