namespace Coordination;

/// <summary>How a rate-limit policy counts (<see cref="RateLimitPolicy.Algorithm"/>).</summary>
public enum RateLimitAlgorithm
{
    /// <summary>At most <see cref="RateLimitPolicy.Limit"/> permits per window of <see cref="RateLimitPolicy.Period"/>, windows aligned to Redis's clock.</summary>
    FixedWindow,

    /// <summary>A window sliding with time, counted as the current window plus the previous one weighted by how much of it still overlaps (approximate, never above the limit).</summary>
    SlidingWindow,

    /// <summary>A window sliding with time, counted exactly from a log of every admitted permit (for small limits).</summary>
    SlidingLog,

    /// <summary>A bucket of <see cref="RateLimitPolicy.Burst"/> tokens refilled at <see cref="RateLimitPolicy.Limit"/> per <see cref="RateLimitPolicy.Period"/>.</summary>
    TokenBucket,

    /// <summary>The generic cell rate algorithm: permits spaced at <see cref="RateLimitPolicy.Period"/> / <see cref="RateLimitPolicy.Limit"/>, with a burst of <see cref="RateLimitPolicy.Burst"/>.</summary>
    Gcra,

    /// <summary>At most <see cref="RateLimitPolicy.Limit"/> leases held at once; a lease ends when released or after <see cref="RateLimitPolicy.Period"/>.</summary>
    Concurrency,
}
