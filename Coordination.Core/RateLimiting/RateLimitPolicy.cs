namespace Coordination;

/// <summary>A named rate-limit policy: how a key is limited (<see cref="IRateLimitService.AcquireAsync"/>).</summary>
public sealed record RateLimitPolicy
{
    /// <summary>Gets how permits are counted.</summary>
    public RateLimitAlgorithm Algorithm { get; init; }

    /// <summary>Gets the permits per <see cref="Period"/> (for <see cref="RateLimitAlgorithm.Concurrency"/>: the leases held at once). At least 1.</summary>
    public long Limit { get; init; }

    /// <summary>Gets the window, the refill period, or (for <see cref="RateLimitAlgorithm.Concurrency"/>) how long a lease lasts unless released. 1 ms to 30 days.</summary>
    public TimeSpan Period { get; init; }

    /// <summary>
    /// Gets the most permits that may be taken at once after a quiet stretch: the bucket's capacity
    /// (<see cref="RateLimitAlgorithm.TokenBucket"/>) or the burst (<see cref="RateLimitAlgorithm.Gcra"/>), separate from
    /// the sustained rate; <see langword="null"/> means <see cref="Limit"/>. Other algorithms ignore it.
    /// </summary>
    public long? Burst { get; init; }

    /// <summary>Gets whether the effective limit follows the health signal: it shrinks under stress and recovers after.</summary>
    public bool Adaptive { get; init; }
}
