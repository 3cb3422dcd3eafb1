namespace Coordination.Api.Apis;

/// <summary>The dependencies of the rate-limit endpoints, bound with <c>[AsParameters]</c>.</summary>
public sealed class RateLimitServices(ICoordinatorFactory coordinators, IRateLimitPolicies policies)
{
    /// <summary>Gives the rate limiting of the caller's tenant.</summary>
    public ICoordinatorFactory Coordinators { get; } = coordinators;

    /// <summary>The platform's policies and per-tenant overrides (admin endpoints).</summary>
    public IRateLimitPolicies Policies { get; } = policies;
}
