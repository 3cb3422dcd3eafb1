using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// What the rate limiters of all tenants share: the executor, the policies, logging and the instruments. Owned by the
/// container (one per host); it keeps one service per tenant, the local fallback limiter and the adaptive limits' state. It holds no connection and runs no background work (the
/// policies are refreshed by the calls that find them stale), so it has no shutdown step.
/// </summary>
internal sealed class RateLimitRuntime
{
    private readonly ConcurrentDictionary<string, RedisRateLimitService> _tenants = new(StringComparer.Ordinal);

    public RateLimitRuntime(RedisExecutor executor, CoordinationOptions options, CoordinationMetrics metrics, TimeProvider timeProvider, ILoggerFactory loggerFactory, IRateLimitHealthSignal? healthSignal = null)
    {
        Executor = executor;
        CriticalReserve = options.RateLimiting.CriticalReserve;
        KeyPrefix = options.KeyPrefix;
        Metrics = new RateLimitingMetrics(metrics.Meter);
        Logger = loggerFactory.CreateLogger<RedisRateLimitService>();
        var settings = options.RateLimiting;
        Fallback = new RateLimitFallback(settings.Fallback, new LocalRateLimiter(settings.Fallback, settings.CriticalReserve, timeProvider), Metrics, Logger);
        LatencySignal = new RedisLatencySignal(settings.Adaptive);
        Adaptive = new AdaptiveLimitController(settings.Adaptive, healthSignal ?? LatencySignal, timeProvider, metrics.Meter);
        Policies = new RateLimitPolicyStore(executor, options.KeyPrefix, options.RateLimiting, timeProvider, Metrics, loggerFactory.CreateLogger<RateLimitPolicyStore>());
    }

    public RedisExecutor Executor { get; }

    public string KeyPrefix { get; }

    public RateLimitPolicyStore Policies { get; }

    /// <summary>The share of each limit kept for critical requests (<see cref="RateLimitingOptions.CriticalReserve"/>).</summary>
    public double CriticalReserve { get; }

    public RateLimitingMetrics Metrics { get; }

    public ILogger Logger { get; }

    /// <summary>The local limiter that decides while Redis is unavailable.</summary>
    public RateLimitFallback Fallback { get; }

    /// <summary>Where the rate-limit calls' latency and failures are counted.</summary>
    public RedisLatencySignal LatencySignal { get; }

    /// <summary>The effective limits of adaptive policies (from <see cref="LatencySignal"/>, or the signal given for tests).</summary>
    public AdaptiveLimitController Adaptive { get; }

    /// <summary>The rate limiter of <paramref name="tenant"/> (one per tenant).</summary>
    public RedisRateLimitService ForTenant(string tenant)
    {
        CoordinationKey.ValidateSegment(tenant, nameof(tenant));
        return _tenants.GetOrAdd(tenant, static (t, runtime) => new RedisRateLimitService(t, runtime), this);
    }
}
