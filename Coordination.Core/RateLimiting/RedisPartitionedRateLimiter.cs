using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>The partitioned limiter of <see cref="RedisRateLimiterFactory"/>: stateless, one decision in Redis per acquisition.</summary>
internal sealed class RedisPartitionedRateLimiter<TResource>(Func<TResource, RedisRateLimitPartition?> partitioner, RedisRateLimiterOptions options)
    : PartitionedRateLimiter<TResource>
{
    private readonly ILogger? _logger = options.LoggerFactory?.CreateLogger<RedisRateLimiter>();
    private int _disposed;

    public override RateLimiterStatistics? GetStatistics(TResource resource) => null;

    protected override RateLimitLease AttemptAcquireCore(TResource resource, int permitCount)
    {
        ThrowIfUnusable(permitCount);
        return partitioner(resource) is null ? RedisRateLimitLease.Unlimited : RedisRateLimitLease.NeedsAsyncDecision;
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(TResource resource, int permitCount, CancellationToken cancellationToken)
    {
        ThrowIfUnusable(permitCount);
        if (partitioner(resource) is not { } partition)
        {
            return RedisRateLimitLease.Unlimited;
        }

        var decision = await partition.Service.AcquireAsync(partition.Policy, partition.Key, permitCount, options.Priority, cancellationToken);
        return RedisRateLimitLease.From(decision, partition, _logger, onEnded: null);
    }

    protected override void Dispose(bool disposing)
    {
        Interlocked.Exchange(ref _disposed, 1);
        base.Dispose(disposing);
    }

    private void ThrowIfUnusable(int permitCount)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        RedisRateLimiter.ThrowIfNoPermits(permitCount);
    }
}
