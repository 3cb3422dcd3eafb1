namespace Coordination.Api.Apis;

/// <summary>The dependencies of the cache endpoints, bound with <c>[AsParameters]</c>.</summary>
public sealed class CacheServices(ICoordinatorFactory coordinators)
{
    /// <summary>Gives the coordinator (and so the cache) of the caller's tenant.</summary>
    public ICoordinatorFactory Coordinators { get; } = coordinators;
}
