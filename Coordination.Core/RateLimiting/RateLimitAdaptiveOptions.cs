using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// How the effective limit of an adaptive policy (<see cref="RateLimitPolicy.Adaptive"/>) follows Redis's health as this
/// node sees it (<c>Coordination:RateLimiting:Adaptive</c>): once per <see cref="Interval"/>, multiplied by
/// <see cref="DecreaseFactor"/> when the interval was stressed, else raised by <see cref="IncreaseStep"/> of the
/// configured limit, between <see cref="Floor"/> of the limit and the limit.
/// </summary>
public sealed class RateLimitAdaptiveOptions
{
    /// <summary>Gets or sets how often the effective limit is adjusted, from the rate-limit calls of the interval just ended.</summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the latency a rate-limit call's 99th percentile must stay under: an interval where more than 1 % of the calls took longer is stressed.</summary>
    /// <value>The default value is 50 ms.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan LatencyThreshold { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>Gets or sets the share of failed rate-limit calls above which an interval is stressed.</summary>
    /// <value>The default value is 0.05 (5 %).</value>
    [Range(0.0, 1.0)]
    public double ErrorRateThreshold { get; set; } = 0.05;

    /// <summary>Gets or sets what the effective limit is multiplied by after a stressed interval.</summary>
    /// <value>The default value is 0.5.</value>
    [Range(0.01, 0.99)]
    public double DecreaseFactor { get; set; } = 0.5;

    /// <summary>Gets or sets the share of the configured limit added back after a healthy interval.</summary>
    /// <value>The default value is 0.1 (10 %).</value>
    [Range(0.01, 1.0)]
    public double IncreaseStep { get; set; } = 0.1;

    /// <summary>Gets or sets the share of the configured limit the effective limit never goes below (and at least 1).</summary>
    /// <value>The default value is 0.1 (10 %).</value>
    [Range(0.01, 1.0)]
    public double Floor { get; set; } = 0.1;
}
