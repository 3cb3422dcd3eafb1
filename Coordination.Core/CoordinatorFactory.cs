using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>Creates one coordinator per tenant and keeps it for the life of the process.</summary>
internal sealed class CoordinatorFactory : ICoordinatorFactory
{
    private readonly ConcurrentDictionary<string, RedisCoordinator> _coordinators = new(StringComparer.Ordinal);
    private readonly Func<string, RedisCoordinator> _create;

    public CoordinatorFactory(
        IOptions<CoordinationOptions> options,
        ICoordinationSerializer serializer,
        RedisExecutor executor,
        KeyValueFallback fallback,
        LockRuntime locks,
        CacheRuntime caches,
        SessionRuntime sessions,
        RateLimitRuntime rateLimits,
        CoordinationMetrics metrics)
    {
        // Key/value reads of every tenant combine into one batch under load.
        Reads = new RedisReadCombiner(executor, metrics, "kv.get", options.Value.MaxReadsInFlight);
        Writes = new RedisWriteCombiner(executor, metrics, options.Value.MaxWritesInFlight);
        _create = tenant => new RedisCoordinator(tenant, options.Value, serializer, executor, Reads, Writes, fallback, locks, caches, sessions, rateLimits);
    }

    /// <summary>The key/value reads of every tenant, combined under load.</summary>
    internal RedisReadCombiner Reads { get; }

    /// <summary>The key/value writes of every tenant, combined under load.</summary>
    internal RedisWriteCombiner Writes { get; }

    public IRedisCoordinator ForTenant(string tenant) => Get(tenant);

    public RedisCoordinator Get(string tenant)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        return _coordinators.GetOrAdd(tenant, _create);
    }

    public ICollection<RedisCoordinator> All => _coordinators.Values;
}
