using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>
/// The rate-limiting instruments of the <c>Coordination</c> meter: decisions by algorithm and outcome, in Redis and
/// locally (the adaptive limits' gauge is <see cref="AdaptiveLimitController"/>'s). Tags never carry
/// policies, keys or tenants (their number is unbounded).
/// </summary>
internal sealed class RateLimitingMetrics
{
    private const string Allowed = "allowed";
    private const string Refused = "refused";
    private const string Unavailable = "unavailable";

    private static readonly string[] Outcomes = [Allowed, Refused, Unavailable];
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _refreshes;
    private readonly Counter<long> _localDecisions;
    private readonly KeyValuePair<string, object?>[][][] _tags;

    public RateLimitingMetrics(Meter meter)
    {
        _decisions = meter.CreateCounter<long>("coordination.ratelimit.decisions", "{decision}", "Rate-limit decisions by algorithm and outcome (allowed, refused; unavailable: Redis could not be asked).");
        _refreshes = meter.CreateCounter<long>("coordination.ratelimit.policy.refreshes", "{refresh}", "Reads of the rate-limit policies kept in Redis, by whether they had changed (coordination.ratelimit.changed: true or false).");
        _localDecisions = meter.CreateCounter<long>("coordination.ratelimit.local.decisions", "{decision}", "Rate-limit decisions made on this node while Redis was unavailable, by algorithm and outcome (allowed, refused).");
        _tags = [.. Enum.GetValues<RateLimitAlgorithm>().Select(algorithm => Outcomes
            .Select(outcome => new KeyValuePair<string, object?>[]
            {
                new("coordination.ratelimit.algorithm", TagOf(algorithm)),
                new("coordination.ratelimit.outcome", outcome),
            })
            .ToArray())];
    }

    public void RecordDecision(RateLimitAlgorithm algorithm, bool allowed) =>
        _decisions.Add(1, _tags[(int)algorithm][allowed ? 0 : 1]);

    public void RecordLocalDecision(RateLimitAlgorithm algorithm, bool allowed) =>
        _localDecisions.Add(1, _tags[(int)algorithm][allowed ? 0 : 1]);

    public void RecordUnavailable(RateLimitAlgorithm algorithm) =>
        _decisions.Add(1, _tags[(int)algorithm][2]);

    public void RecordRefresh(bool changed) =>
        _refreshes.Add(1, new KeyValuePair<string, object?>("coordination.ratelimit.changed", changed));

    /// <summary>The algorithm as a tag value and as the part of a Redis key that keeps algorithms' state apart.</summary>
    public static string TagOf(RateLimitAlgorithm algorithm) => algorithm switch
    {
        RateLimitAlgorithm.FixedWindow => "fixed_window",
        RateLimitAlgorithm.SlidingWindow => "sliding_window",
        RateLimitAlgorithm.SlidingLog => "sliding_log",
        RateLimitAlgorithm.TokenBucket => "token_bucket",
        RateLimitAlgorithm.Gcra => "gcra",
        _ => "concurrency",
    };
}
