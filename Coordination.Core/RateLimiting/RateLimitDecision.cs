namespace Coordination;

/// <summary>The answer to one acquisition (<see cref="IRateLimitService.AcquireAsync"/>).</summary>
/// <param name="Allowed">Whether the permits were granted.</param>
/// <param name="Limit">The limit that applied (the effective one, for an adaptive policy; this node's share when <see cref="DecidedLocally"/>): what <paramref name="Remaining"/> counts against, so the capacity (<see cref="RateLimitPolicy.Burst"/>, else the limit) for <see cref="RateLimitAlgorithm.TokenBucket"/> and <see cref="RateLimitAlgorithm.Gcra"/>.</param>
/// <param name="Remaining">Permits left in the current window or bucket after this call.</param>
/// <param name="ResetAfter">When the count is back to its full allowance.</param>
/// <param name="RetryAfter">When a refused request may succeed (for <see cref="RateLimitAlgorithm.Concurrency"/>: at the latest, a release frees leases sooner); <see cref="TimeSpan.Zero"/> when allowed; <see cref="Timeout.InfiniteTimeSpan"/> when it never can (more permits than the policy allows at once, see <paramref name="Reason"/>).</param>
/// <param name="LeaseId">For <see cref="RateLimitAlgorithm.Concurrency"/> when allowed: the lease to release; otherwise <see langword="null"/>.</param>
/// <param name="Reason">Why it was refused, when it was (for example more permits than the limit); otherwise <see langword="null"/>.</param>
public sealed record RateLimitDecision(
    bool Allowed,
    long Limit,
    long Remaining,
    TimeSpan ResetAfter,
    TimeSpan RetryAfter,
    string? LeaseId = null,
    string? Reason = null)
{
    /// <summary>
    /// Gets whether this node decided alone because Redis was unavailable (its share of the limit, counted locally; see
    /// <see cref="RateLimitFallbackOptions"/>). A local lease id is released by this node only.
    /// </summary>
    /// <value>The default value is <see langword="false"/>: Redis decided.</value>
    public bool DecidedLocally { get; init; }
}
