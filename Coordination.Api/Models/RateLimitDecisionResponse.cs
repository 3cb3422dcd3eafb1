using System.Text.Json.Serialization;

namespace Coordination.Api.Models;

/// <summary>The answer of <c>POST /v1/ratelimit/{policy}/acquire</c> (200 whether or not the permits were granted).</summary>
/// <param name="Allowed">Whether the permits were granted.</param>
/// <param name="Limit">The limit that applied (the effective one, for an adaptive policy).</param>
/// <param name="Remaining">Permits left in the current window or bucket after this call.</param>
/// <param name="ResetAfterMs">Milliseconds until the count is back to its full allowance.</param>
/// <param name="RetryAfterMs">Milliseconds until a refused request may succeed; 0 when allowed; -1 when it can never succeed (more permits than the policy ever gives: see <c>reason</c>).</param>
/// <param name="LeaseId">For a <c>concurrency</c> policy when allowed: the lease to release with <c>DELETE /v1/ratelimit/{policy}/leases/{leaseId}</c>; absent otherwise.</param>
/// <param name="Reason">Why the permits were refused, when the limiter says (for example more permits than the limit); absent otherwise.</param>
public sealed record RateLimitDecisionResponse(
    bool Allowed,
    long Limit,
    long Remaining,
    long ResetAfterMs,
    long RetryAfterMs,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? LeaseId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason)
{
    /// <summary>The answer for <paramref name="decision"/>; durations rounded up to whole milliseconds.</summary>
    public static RateLimitDecisionResponse From(RateLimitDecision decision) => new(
        decision.Allowed,
        decision.Limit,
        decision.Remaining,
        CeilingMs(decision.ResetAfter),
        RetryAfterMsOf(decision.RetryAfter),
        decision.LeaseId,
        decision.Allowed ? null : decision.Reason);

    /// <summary>A retry-after on the wire: whole milliseconds rounded up, -1 for never.</summary>
    public static long RetryAfterMsOf(TimeSpan retryAfter) => retryAfter == Timeout.InfiniteTimeSpan ? -1 : CeilingMs(retryAfter);

    private static long CeilingMs(TimeSpan duration) => duration <= TimeSpan.Zero ? 0 : (long)Math.Ceiling(duration.TotalMilliseconds);
}
