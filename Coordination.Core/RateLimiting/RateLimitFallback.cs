using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// Rate limiting while Redis is unavailable, for all tenants of this node: decides with the <see cref="LocalRateLimiter"/>,
/// logs the start of an outage once and its end once (not every call), and counts the local decisions. Decisions go back
/// to Redis on their own: every call still asks Redis first, and the first answer ends the outage. Nothing is merged
/// back: what was admitted locally is not charged to Redis's counts.
/// </summary>
internal sealed class RateLimitFallback(RateLimitFallbackOptions options, LocalRateLimiter limiter, RateLimitingMetrics metrics, ILogger logger)
{
    private int _deciding;

    public bool Enabled => options.Enabled;

    public LocalRateLimiter Limiter => limiter;

    /// <summary>Decides <paramref name="levels"/> (one for a single policy) on this node, all or nothing.</summary>
    public RateLimitDecision[] Decide(string tenant, IReadOnlyList<Level> levels, int permits, RateLimitPriority priority, CoordinationUnavailableException exception)
    {
        if (Interlocked.Exchange(ref _deciding, 1) == 0)
        {
            RateLimitingLog.DecidingLocally(logger, options.NodeCount, exception);
        }

        var local = new LocalRateLimiter.Level[levels.Count];
        for (var i = 0; i < levels.Count; i++)
        {
            var definition = levels[i].Definition;
            var limit = definition.Algorithm is RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra ? RateLimitPolicyRules.Capacity(definition) : definition.Limit;
            local[i] = new LocalRateLimiter.Level(levels[i].Policy, definition.Algorithm, limit, definition.Period, levels[i].Key);
        }

        var decisions = limiter.Acquire(tenant, local, permits, priority);
        var allowed = decisions.All(d => d.Allowed);
        foreach (var level in levels)
        {
            metrics.RecordLocalDecision(level.Definition.Algorithm, allowed);
        }

        return decisions;
    }

    public bool Release(string tenant, string policy, string leaseId) => limiter.Release(tenant, policy, leaseId);

    /// <summary>Redis decided again: ends the outage (logged once).</summary>
    public void RedisAnswered()
    {
        if (Volatile.Read(ref _deciding) == 1 && Interlocked.Exchange(ref _deciding, 0) == 1)
        {
            RateLimitingLog.DecidingInRedisAgain(logger);
        }
    }

    /// <summary>One level of a local decision: the policy's name, its definition as it applies, and the key.</summary>
    public readonly record struct Level(string Policy, RateLimitPolicy Definition, string Key);
}
