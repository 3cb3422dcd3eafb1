namespace Coordination.Api.Models;

/// <summary>The body of <c>PUT /v1/ratelimit/policies/{policy}</c> and of a tenant's override, validated by the endpoint.</summary>
/// <param name="Algorithm">
/// How permits are counted: <c>fixed-window</c>, <c>sliding-window</c>, <c>sliding-log</c>, <c>token-bucket</c>,
/// <c>gcra</c> or <c>concurrency</c>. Required.
/// </param>
/// <param name="Limit">Permits per period (for <c>concurrency</c>: leases held at once); at least 1. Required.</param>
/// <param name="PeriodMs">The window, refill period or (for <c>concurrency</c>) lease lifetime in milliseconds (1 .. 2592000000). Required.</param>
/// <param name="Burst">The bucket's capacity (<c>token-bucket</c>) or the burst (<c>gcra</c>), at least 1; absent means <c>limit</c>. Other algorithms ignore it.</param>
/// <param name="Adaptive">Whether the effective limit follows the health signal; absent means false.</param>
public sealed record SetRateLimitPolicyRequest(string? Algorithm, long? Limit, long? PeriodMs, long? Burst = null, bool? Adaptive = null);
