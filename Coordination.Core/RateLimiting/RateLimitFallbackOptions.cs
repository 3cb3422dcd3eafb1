using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// The local limiter that decides while Redis is unavailable (<c>Coordination:RateLimiting:Fallback</c>): each node
/// admits its share of a policy's limit, <c>Limit / NodeCount</c>, counted in this process only.
/// </summary>
public sealed class RateLimitFallbackOptions
{
    /// <summary>
    /// Gets or sets whether decisions are made locally while Redis is unavailable. When <see langword="false"/>,
    /// <see cref="IRateLimitService.AcquireAsync"/> throws <see cref="CoordinationUnavailableException"/> instead (fail closed).
    /// </summary>
    /// <value>The default value is <see langword="true"/>: rate limiting degrades to the local limiter.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets how many nodes share a limit while Redis is unavailable: each node admits <c>Limit / NodeCount</c>
    /// (at least 1) per period. Set it to the number of nodes that serve the same policies; with fewer, the platform
    /// admits up to <c>NodeCount</c> times less than the limit, with more, up to that many times more.
    /// </summary>
    /// <value>The default value is 1 (a single node keeps the whole limit).</value>
    [Range(1, 100_000)]
    public int NodeCount { get; set; } = 1;

    /// <summary>Gets or sets the most local limiters (one per tenant, policy and key) kept at once; the least recently used one is dropped for a new one.</summary>
    /// <value>The default value is 10,000.</value>
    [Range(1, 1_000_000)]
    public int MaxLimiters { get; set; } = 10_000;
}
