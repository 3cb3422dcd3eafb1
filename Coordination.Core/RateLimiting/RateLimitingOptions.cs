using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>Options of rate limiting (<see cref="IRateLimitService"/>, <see cref="IRateLimitPolicies"/>), bound from <see cref="SectionName"/>.</summary>
public sealed class RateLimitingOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:RateLimiting";

    /// <summary>Gets the policies defined by configuration, by name (<c>Coordination:RateLimiting:Policies:{name}:Algorithm</c>, ...). A policy set at run time with the same name replaces it.</summary>
    public Dictionary<string, RateLimitPolicy> Policies { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets or sets how often a node reads the policies and overrides kept in Redis: the bound within which a change applies everywhere.</summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PolicyRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Gets or sets the most policies <see cref="IRateLimitPolicies.SetAsync"/> keeps in Redis (replacing one does not
    /// count); another is refused with <see cref="CoordinationQuotaExceededException"/>.
    /// </summary>
    /// <value>The default value is 1,000.</value>
    [Range(1, 100_000)]
    public int MaxPolicies { get; set; } = 1_000;

    /// <summary>
    /// Gets or sets the most tenant overrides of one policy (<see cref="IRateLimitPolicies.SetOverrideAsync"/>; replacing
    /// one does not count); another is refused with <see cref="CoordinationQuotaExceededException"/>.
    /// </summary>
    /// <value>The default value is 10,000.</value>
    [Range(0, 1_000_000)]
    public int MaxOverridesPerPolicy { get; set; } = 10_000;

    /// <summary>
    /// Gets or sets the share of each limit kept for <see cref="RateLimitPriority.Critical"/> requests: a
    /// <see cref="RateLimitPriority.Normal"/> one is admitted only while at least <c>ceil(limit × share)</c> permits
    /// (of the capacity for a token bucket or GCRA, of the leases for concurrency) stay left after it, at most
    /// <c>limit − 1</c> so normal traffic always has one. A critical request may use the whole limit. 0 (the default)
    /// keeps no reserve: every request may use the whole limit, whatever its priority; a host whose callers mark critical
    /// traffic turns it on (0.1 keeps a tenth).
    /// </summary>
    /// <value>The default value is 0 (no reserve).</value>
    [Range(0.0, 0.9)]
    public double CriticalReserve { get; set; }

    /// <summary>Gets the local limiter that decides while Redis is unavailable (<c>Coordination:RateLimiting:Fallback</c>).</summary>
    [ValidateObjectMembers]
    public RateLimitFallbackOptions Fallback { get; } = new();

    /// <summary>Gets how adaptive policies follow Redis's health (<c>Coordination:RateLimiting:Adaptive</c>).</summary>
    [ValidateObjectMembers]
    public RateLimitAdaptiveOptions Adaptive { get; } = new();
}
