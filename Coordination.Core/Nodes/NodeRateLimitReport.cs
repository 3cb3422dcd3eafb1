namespace Coordination;

/// <summary>A node's rate-limit decisions since it started, in Redis and by its local fallback limiter together.</summary>
public sealed class NodeRateLimitReport
{
    /// <summary>Requests admitted.</summary>
    public long Allowed { get; init; }

    /// <summary>Requests rejected (over a limit).</summary>
    public long Rejected { get; init; }

    /// <summary>Decisions that could not be made in Redis (then made locally, or failed closed).</summary>
    public long Unavailable { get; init; }
}
