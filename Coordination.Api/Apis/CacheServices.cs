using Microsoft.Extensions.Options;

namespace Coordination.Api.Apis;

/// <summary>The dependencies of the cache endpoints, bound with <c>[AsParameters]</c>.</summary>
public sealed class CacheServices(ICoordinatorFactory coordinators, IOptions<CoordinationOptions> options)
{
    /// <summary>Gives the coordinator (and so the cache) of the caller's tenant.</summary>
    public ICoordinatorFactory Coordinators { get; } = coordinators;

    /// <summary>The library's options (<c>Coordination:MaxValueBytes</c> limits the body).</summary>
    public IOptions<CoordinationOptions> Options { get; } = options;
}
