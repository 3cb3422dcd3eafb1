using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// Settings of <see cref="RedisRateLimiter"/> and the partitioned limiters of <see cref="RedisRateLimiterFactory"/>
/// (per limiter, not bound from configuration: the policies themselves are in <see cref="RateLimitingOptions"/>).
/// </summary>
public sealed class RedisRateLimiterOptions
{
    /// <summary>Gets or sets the priority every acquisition of the limiter carries.</summary>
    /// <value>The default value is <see cref="RateLimitPriority.Normal"/>.</value>
    public RateLimitPriority Priority { get; set; } = RateLimitPriority.Normal;

    /// <summary>
    /// Gets or sets where the limiter logs what it cannot report to a caller: a concurrency lease whose release failed
    /// when the lease was disposed (the lease then ends with its policy's period). <see langword="null"/> logs nothing.
    /// </summary>
    /// <value>The default value is <see langword="null"/>.</value>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>Gets or sets the clock of <see cref="RedisRateLimiter.IdleDuration"/> (the decisions themselves take Redis's clock).</summary>
    /// <value>The default value is <see cref="TimeProvider.System"/>.</value>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;
}
