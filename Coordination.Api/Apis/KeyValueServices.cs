namespace Coordination.Api.Apis;

/// <summary>The dependencies of the key/value endpoints, bound with <c>[AsParameters]</c>.</summary>
public sealed class KeyValueServices(ICoordinatorFactory coordinators)
{
    /// <summary>Gives the coordinator of the caller's tenant.</summary>
    public ICoordinatorFactory Coordinators { get; } = coordinators;
}
