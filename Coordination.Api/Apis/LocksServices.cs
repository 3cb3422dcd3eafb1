namespace Coordination.Api.Apis;

/// <summary>The dependencies of the lock endpoints, bound with <c>[AsParameters]</c>.</summary>
public sealed class LocksServices(ICoordinatorFactory coordinators)
{
    /// <summary>Gives the coordinator (and so the lock manager) of the caller's tenant.</summary>
    public ICoordinatorFactory Coordinators { get; } = coordinators;
}
