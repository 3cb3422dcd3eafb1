using System.Threading.RateLimiting;

namespace Coordination;

/// <summary>
/// Makes System.Threading.RateLimiting limiters decided in Redis: a <see cref="PartitionedRateLimiter{TResource}"/>
/// whose partitions are (tenant, policy, key) allowances of <see cref="IRateLimitService"/>, for example
/// <c>builder.Services.AddRateLimiter(o =&gt; o.GlobalLimiter = RedisRateLimiterFactory.CreatePartitioned&lt;HttpContext&gt;(...))</c>
/// in ASP.NET Core.
/// </summary>
/// <remarks>
/// The partitioned limiters keep nothing per partition (no limiter per key is cached, so any number of keys costs no
/// memory): each acquisition asks the partitioner for its partition and makes one decision in Redis. Leases behave as
/// those of <see cref="RedisRateLimiter"/>: <see cref="PartitionedRateLimiter{TResource}.AttemptAcquire"/> never grants
/// permits for a limited resource (ASP.NET Core's middleware then calls
/// <see cref="PartitionedRateLimiter{TResource}.AcquireAsync"/>), a refused lease carries
/// <see cref="MetadataName.RetryAfter"/>, <see cref="MetadataName.ReasonPhrase"/> and
/// <see cref="RedisRateLimiter.DecisionMetadataName"/>, and disposing a concurrency lease releases it.
/// <see cref="PartitionedRateLimiter{TResource}.GetStatistics"/> answers <see langword="null"/>.
/// </remarks>
public static class RedisRateLimiterFactory
{
    /// <summary>A limiter whose partitions <paramref name="partitioner"/> chooses per resource; a <see langword="null"/> partition is not limited (its lease is granted without a call to Redis).</summary>
    /// <typeparam name="TResource">What is limited (an <c>HttpContext</c> in ASP.NET Core).</typeparam>
    /// <param name="partitioner">The tenant's service, the policy and the key for a resource. Called on every acquisition; keep it cheap.</param>
    /// <param name="options">The limiter's settings; <see langword="null"/> takes the defaults (<see cref="RedisRateLimiterOptions.TimeProvider"/> is not used).</param>
    /// <exception cref="ArgumentNullException"><paramref name="partitioner"/> is <see langword="null"/>.</exception>
    public static PartitionedRateLimiter<TResource> CreatePartitioned<TResource>(Func<TResource, RedisRateLimitPartition?> partitioner, RedisRateLimiterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(partitioner);
        return new RedisPartitionedRateLimiter<TResource>(partitioner, options ?? new RedisRateLimiterOptions());
    }

    /// <summary>A limiter of one tenant's <paramref name="policy"/>, partitioned by the key <paramref name="keySelector"/> gives a resource; a <see langword="null"/> key is not limited.</summary>
    /// <typeparam name="TResource">What is limited (an <c>HttpContext</c> in ASP.NET Core).</typeparam>
    /// <param name="service">The tenant's rate limiting.</param>
    /// <param name="policy">The policy's name.</param>
    /// <param name="keySelector">The key of a resource (a user, a client address, a route); checked by the service at acquisition.</param>
    /// <param name="options">The limiter's settings; <see langword="null"/> takes the defaults.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="policy"/> is empty.</exception>
    public static PartitionedRateLimiter<TResource> CreatePartitionedByKey<TResource>(IRateLimitService service, string policy, Func<TResource, string?> keySelector, RedisRateLimiterOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrEmpty(policy);
        ArgumentNullException.ThrowIfNull(keySelector);
        return CreatePartitioned<TResource>(
            resource => keySelector(resource) is { Length: > 0 } key ? new RedisRateLimitPartition(service, policy, key) : null,
            options);
    }
}
