using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// What the rate limiters of all tenants share: the executor, the policies, logging and the instruments. Owned by the
/// container (one per host); it keeps one service per tenant. It holds no connection and runs no background work (the
/// policies are refreshed by the calls that find them stale), so it has no shutdown step.
/// </summary>
internal sealed class RateLimitRuntime
{
    private readonly ConcurrentDictionary<string, RedisRateLimitService> _tenants = new(StringComparer.Ordinal);

    public RateLimitRuntime(RedisExecutor executor, CoordinationOptions options, CoordinationMetrics metrics, TimeProvider timeProvider, ILoggerFactory loggerFactory)
    {
        Executor = executor;
        KeyPrefix = options.KeyPrefix;
        Metrics = new RateLimitingMetrics(metrics.Meter);
        Logger = loggerFactory.CreateLogger<RedisRateLimitService>();
        Policies = new RateLimitPolicyStore(executor, options.KeyPrefix, options.RateLimiting, timeProvider, Metrics, loggerFactory.CreateLogger<RateLimitPolicyStore>());
    }

    public RedisExecutor Executor { get; }

    public string KeyPrefix { get; }

    public RateLimitPolicyStore Policies { get; }

    public RateLimitingMetrics Metrics { get; }

    public ILogger Logger { get; }

    /// <summary>The rate limiter of <paramref name="tenant"/> (one per tenant).</summary>
    public RedisRateLimitService ForTenant(string tenant)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        return _tenants.GetOrAdd(tenant, static (t, runtime) => new RedisRateLimitService(t, runtime), this);
    }
}
