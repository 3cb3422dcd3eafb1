namespace Coordination;

/// <summary>
/// What a partitioned limiter of <see cref="RedisRateLimiterFactory"/> limits for one resource: <see cref="Key"/>'s
/// allowance under <see cref="Policy"/>, taken from <see cref="Service"/> (which decides the tenant).
/// </summary>
public sealed class RedisRateLimitPartition
{
    /// <summary>Initializes a new instance of the <see cref="RedisRateLimitPartition"/> class.</summary>
    /// <param name="service">The tenant's rate limiting (<c>IRedisCoordinator.RateLimits</c>).</param>
    /// <param name="policy">The policy's name.</param>
    /// <param name="key">What is limited (a user, a client, an endpoint); checked by the service at acquisition.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="policy"/> or <paramref name="key"/> is empty.</exception>
    public RedisRateLimitPartition(IRateLimitService service, string policy, string key)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentException.ThrowIfNullOrEmpty(policy);
        ArgumentException.ThrowIfNullOrEmpty(key);
        Service = service;
        Policy = policy;
        Key = key;
    }

    /// <summary>Gets the tenant's rate limiting the permits are taken from.</summary>
    public IRateLimitService Service { get; }

    /// <summary>Gets the policy's name.</summary>
    public string Policy { get; }

    /// <summary>Gets what is limited.</summary>
    public string Key { get; }
}
