namespace Coordination;

/// <summary>
/// Rate limiting for one tenant on Redis: every decision is one atomic script with Redis's clock, exact under
/// concurrency (never more than the limit admitted). Reach it as <c>IRedisCoordinator.RateLimits</c> or from
/// dependency injection (the default tenant).
/// </summary>
public interface IRateLimitService
{
    /// <summary>Takes <paramref name="permits"/> from <paramref name="key"/>'s allowance under <paramref name="policy"/> (the tenant's override of it, if any).</summary>
    /// <param name="policy">The policy's name.</param>
    /// <param name="key">What is limited (a user, a client, an endpoint): a name, 1..512 UTF-8 bytes, no control characters.</param>
    /// <param name="permits">How many permits; at least 1. More than the limit is refused with a reason, never admitted.</param>
    /// <param name="priority">How much the request matters when capacity runs short.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <exception cref="ArgumentException">The key or permits are invalid.</exception>
    /// <exception cref="RateLimitPolicyNotFoundException">No policy has that name.</exception>
    ValueTask<RateLimitDecision> AcquireAsync(string policy, string key, int permits = 1, RateLimitPriority priority = RateLimitPriority.Normal, CancellationToken cancellationToken = default);

    /// <summary>
    /// Takes <paramref name="permits"/> from every level at once, all or nothing: the request is admitted only when
    /// each level (its policy as it applies to this tenant) has room, and then charged to all of them in one atomic
    /// step, so the users of a tenant together never exceed a tenant-wide level. A refusal charges no level.
    /// </summary>
    /// <param name="levels">1..<see cref="MaxLevels"/> levels of this tenant, no (policy, key) twice; no <see cref="RateLimitAlgorithm.Concurrency"/> policy (take leases with <see cref="AcquireAsync"/>).</param>
    /// <param name="permits">How many permits, charged to each level; at least 1.</param>
    /// <param name="priority">How much the request matters when capacity runs short (the reserve is kept at every level).</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <exception cref="ArgumentException">The levels, a key or permits are invalid, or a level's policy is a concurrency policy.</exception>
    /// <exception cref="RateLimitPolicyNotFoundException">A level names no policy.</exception>
    ValueTask<RateLimitHierarchyDecision> AcquireAllAsync(IReadOnlyList<RateLimitLevel> levels, int permits = 1, RateLimitPriority priority = RateLimitPriority.Normal, CancellationToken cancellationToken = default);

    /// <summary>The most levels one <see cref="AcquireAllAsync"/> may charge.</summary>
    const int MaxLevels = 8;

    /// <summary>Ends a lease of a <see cref="RateLimitAlgorithm.Concurrency"/> policy; answers whether it was held.</summary>
    /// <exception cref="RateLimitPolicyNotFoundException">No policy has that name.</exception>
    ValueTask<bool> ReleaseAsync(string policy, string leaseId, CancellationToken cancellationToken = default);

    /// <summary>The policy as it applies to this tenant (its override, else the policy), or <see langword="null"/> when there is none.</summary>
    ValueTask<RateLimitPolicy?> GetPolicyAsync(string policy, CancellationToken cancellationToken = default);
}
