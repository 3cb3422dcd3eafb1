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
    public TimeSpan PolicyRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);
}
