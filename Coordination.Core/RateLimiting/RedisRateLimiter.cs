using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// A <see cref="RateLimiter"/> over <see cref="IRateLimitService"/> for one key under one policy, so code written
/// against System.Threading.RateLimiting is limited across every process that shares the Redis. It keeps no permits
/// of its own: every acquisition is one decision of the policy's script in Redis (exact under concurrency). Thread-safe.
/// </summary>
/// <remarks>
/// <para>
/// <b>Acquire with <see cref="RateLimiter.AcquireAsync"/>.</b> A decision needs a round trip to Redis, which a
/// synchronous call cannot make without blocking a thread, so <see cref="RateLimiter.AttemptAcquire"/> never grants
/// permits: it answers a lease that is not acquired, with <see cref="MetadataName.ReasonPhrase"/>
/// <see cref="AttemptAcquireReason"/>. ASP.NET Core's rate limiting middleware then calls
/// <see cref="RateLimiter.AcquireAsync"/>, so the limiter works there as it is.
/// </para>
/// <para>
/// The limiter never queues: <see cref="RateLimiter.AcquireAsync"/> answers at once, and a refused lease carries
/// <see cref="MetadataName.RetryAfter"/> (when to try again; absent when the request can never succeed, as with more
/// permits than the policy ever gives), <see cref="MetadataName.ReasonPhrase"/> and the whole
/// <see cref="RateLimitDecision"/> under <see cref="DecisionMetadataName"/> (limit, remaining, reset: what the
/// <c>RateLimit-*</c> response headers need). An acquired lease carries the decision too.
/// </para>
/// <para>
/// For a <see cref="RateLimitAlgorithm.Concurrency"/> policy, disposing an acquired lease releases it
/// (<see cref="IRateLimitService.ReleaseAsync"/>) in the background; a release that fails is logged through
/// <see cref="RedisRateLimiterOptions.LoggerFactory"/> and the lease ends with the policy's period. Leases of the
/// other algorithms hold nothing.
/// </para>
/// <para>
/// Failures of the service reach the caller of <see cref="RateLimiter.AcquireAsync"/> unchanged:
/// <see cref="CoordinationUnavailableException"/> when Redis is unavailable (the limiter neither admits nor refuses on
/// its own), <see cref="RateLimitPolicyNotFoundException"/> for an unknown policy.
/// </para>
/// </remarks>
public sealed class RedisRateLimiter : RateLimiter
{
    /// <summary>The <see cref="MetadataName.ReasonPhrase"/> of every lease <see cref="RateLimiter.AttemptAcquire"/> answers.</summary>
    public const string AttemptAcquireReason = "A Redis rate limiter decides over the network: call AcquireAsync, AttemptAcquire never grants permits.";

    /// <summary>
    /// The metadata of a lease that holds the <see cref="RateLimitDecision"/> it was made from (limit, remaining,
    /// reset after, retry after). Also on the leases of <see cref="RedisRateLimiterFactory"/>'s limiters.
    /// </summary>
    public static readonly MetadataName<RateLimitDecision> DecisionMetadataName = MetadataName.Create<RateLimitDecision>("COORDINATION_RATE_LIMIT_DECISION");

    private readonly RedisRateLimitPartition _partition;
    private readonly RedisRateLimiterOptions _options;
    private readonly ILogger? _logger;
    private long _lastActivity;
    private long _leasesHeld;
    private long _successfulLeases;
    private long _failedLeases;
    private long _lastRemaining;
    private int _disposed;

    /// <summary>Initializes a new instance of the <see cref="RedisRateLimiter"/> class.</summary>
    /// <param name="service">The tenant's rate limiting (<c>IRedisCoordinator.RateLimits</c>, or the default tenant's from dependency injection).</param>
    /// <param name="policy">The policy's name.</param>
    /// <param name="key">What is limited; checked by the service at acquisition (1..512 UTF-8 bytes, no control characters).</param>
    /// <param name="options">The limiter's settings; <see langword="null"/> takes the defaults.</param>
    /// <exception cref="ArgumentNullException">An argument is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException"><paramref name="policy"/> or <paramref name="key"/> is empty.</exception>
    public RedisRateLimiter(IRateLimitService service, string policy, string key, RedisRateLimiterOptions? options = null)
    {
        _partition = new RedisRateLimitPartition(service, policy, key);
        _options = options ?? new RedisRateLimiterOptions();
        _logger = _options.LoggerFactory?.CreateLogger<RedisRateLimiter>();
        _lastActivity = _options.TimeProvider.GetTimestamp();
        _lastRemaining = -1;
    }

    /// <summary>
    /// Gets how long the limiter has had no acquisition and no concurrency lease outstanding, by
    /// <see cref="RedisRateLimiterOptions.TimeProvider"/>; <see langword="null"/> while a lease of this limiter is held.
    /// A limiter kept per key (<see cref="RateLimitPartition.Get{TKey}"/>) can be dropped when idle: its state is in Redis.
    /// </summary>
    public override TimeSpan? IdleDuration =>
        Interlocked.Read(ref _leasesHeld) > 0 ? null : _options.TimeProvider.GetElapsedTime(Interlocked.Read(ref _lastActivity));

    /// <summary>
    /// The leases granted and refused by this instance, and the permits the last decision left
    /// (<see cref="RateLimiterStatistics.CurrentAvailablePermits"/>, 0 before the first); nothing is ever queued.
    /// Other processes draw on the same allowance, so the available permits are a past reading, not a promise.
    /// </summary>
    public override RateLimiterStatistics? GetStatistics() => new()
    {
        CurrentAvailablePermits = Math.Max(0, Interlocked.Read(ref _lastRemaining)),
        CurrentQueuedCount = 0,
        TotalSuccessfulLeases = Interlocked.Read(ref _successfulLeases),
        TotalFailedLeases = Interlocked.Read(ref _failedLeases),
    };

    /// <inheritdoc/>
    /// <remarks>Never grants permits (see the class remarks); <paramref name="permitCount"/> must be at least 1.</remarks>
    protected override RateLimitLease AttemptAcquireCore(int permitCount)
    {
        ThrowIfUnusable(permitCount);
        return RedisRateLimitLease.NeedsAsyncDecision;
    }

    /// <inheritdoc/>
    /// <remarks>
    /// One decision in Redis, answered at once (never queued). <paramref name="permitCount"/> must be at least 1: a
    /// probe of 0 permits is not offered, since the answer would be stale by the time it was used.
    /// </remarks>
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        ThrowIfUnusable(permitCount);
        Interlocked.Exchange(ref _lastActivity, _options.TimeProvider.GetTimestamp());
        var decision = await _partition.Service.AcquireAsync(_partition.Policy, _partition.Key, permitCount, _options.Priority, cancellationToken);
        Interlocked.Exchange(ref _lastRemaining, decision.Remaining);
        if (decision.Allowed)
        {
            Interlocked.Increment(ref _successfulLeases);
        }
        else
        {
            Interlocked.Increment(ref _failedLeases);
        }

        if (decision.Allowed && decision.LeaseId is not null)
        {
            Interlocked.Increment(ref _leasesHeld);
            return RedisRateLimitLease.From(decision, _partition, _logger, LeaseEnded);
        }

        return RedisRateLimitLease.From(decision, _partition, _logger, onEnded: null);
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        Interlocked.Exchange(ref _disposed, 1);
        base.Dispose(disposing);
    }

    internal static void ThrowIfNoPermits(int permitCount)
    {
        if (permitCount < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(permitCount), permitCount, "A Redis rate limiter takes at least 1 permit per acquisition; a probe of 0 permits is not offered.");
        }
    }

    private void LeaseEnded()
    {
        Interlocked.Decrement(ref _leasesHeld);
        Interlocked.Exchange(ref _lastActivity, _options.TimeProvider.GetTimestamp());
    }

    private void ThrowIfUnusable(int permitCount)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        ThrowIfNoPermits(permitCount);
    }
}
