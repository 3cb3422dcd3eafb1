namespace Coordination;

/// <summary>
/// The platform's rate-limit policies, shared by every tenant: defined in configuration
/// (<c>Coordination:RateLimiting:Policies:{name}</c>) or at run time, with per-tenant overrides. Policies set here are
/// kept in Redis, so every node applies a change within <see cref="RateLimitingOptions.PolicyRefreshInterval"/>.
/// For administrators (the HTTP API allows it to the admin role only).
/// </summary>
public interface IRateLimitPolicies
{
    /// <summary>Creates or replaces the policy <paramref name="policy"/> for every tenant without an override.</summary>
    /// <exception cref="ArgumentException">The name or a field of the definition is invalid.</exception>
    ValueTask SetAsync(string policy, RateLimitPolicy definition, CancellationToken cancellationToken = default);

    /// <summary>Creates or replaces <paramref name="tenant"/>'s override of <paramref name="policy"/>.</summary>
    /// <exception cref="ArgumentException">A name or a field of the definition is invalid.</exception>
    ValueTask SetOverrideAsync(string policy, string tenant, RateLimitPolicy definition, CancellationToken cancellationToken = default);

    /// <summary>The policy as it applies to <paramref name="tenant"/> (its override, else the policy; <see langword="null"/> for the policy itself), or <see langword="null"/> when there is none.</summary>
    ValueTask<RateLimitPolicy?> GetAsync(string policy, string? tenant = null, CancellationToken cancellationToken = default);
}
