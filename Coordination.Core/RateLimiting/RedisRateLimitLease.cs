using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination;

/// <summary>
/// A <see cref="RateLimitLease"/> made from one <see cref="RateLimitDecision"/>: metadata
/// <see cref="MetadataName.RetryAfter"/> (unless the request can never succeed) and <see cref="MetadataName.ReasonPhrase"/> when refused, and
/// <see cref="RedisRateLimiter.DecisionMetadataName"/> always. Disposing a lease of a
/// <see cref="RateLimitAlgorithm.Concurrency"/> policy releases it in Redis, once; the release runs in the background
/// because <see cref="IDisposable.Dispose"/> cannot wait for the network, and a failed release is logged (the lease
/// then ends with its policy's period).
/// </summary>
internal sealed class RedisRateLimitLease : RateLimitLease
{
    private const string DefaultRefusal = "The rate limit is exhausted.";

    private static readonly string[] AcquiredMetadata = [RedisRateLimiter.DecisionMetadataName.Name];
    private static readonly string[] RefusedMetadata = [MetadataName.ReasonPhrase.Name, MetadataName.RetryAfter.Name, RedisRateLimiter.DecisionMetadataName.Name];
    private static readonly string[] NeverMetadata = [MetadataName.ReasonPhrase.Name, RedisRateLimiter.DecisionMetadataName.Name];
    private static readonly string[] ReasonOnlyMetadata = [MetadataName.ReasonPhrase.Name];

    private readonly RateLimitDecision? _decision;
    private readonly string? _reason;
    private readonly RedisRateLimitPartition? _partition;
    private readonly ILogger? _logger;
    private Action? _onEnded;
    private int _disposed;

    private RedisRateLimitLease(bool isAcquired, RateLimitDecision? decision, string? reason, RedisRateLimitPartition? partition, ILogger? logger, Action? onEnded)
    {
        IsAcquired = isAcquired;
        _decision = decision;
        _reason = reason;
        _partition = partition;
        _logger = logger;
        _onEnded = onEnded;
    }

    /// <summary>A lease granted without asking Redis: the resource is not limited.</summary>
    public static RedisRateLimitLease Unlimited { get; } = new(true, null, null, null, null, null);

    /// <summary>
    /// The answer of a synchronous attempt: not acquired, because a decision needs a round trip to Redis. The
    /// ASP.NET Core middleware then calls <c>AcquireAsync</c>, which decides.
    /// </summary>
    public static RedisRateLimitLease NeedsAsyncDecision { get; } = new(false, null, RedisRateLimiter.AttemptAcquireReason, null, null, null);

    /// <summary>The lease for <paramref name="decision"/>; <paramref name="onEnded"/> runs once when a held concurrency lease is disposed.</summary>
    public static RedisRateLimitLease From(RateLimitDecision decision, RedisRateLimitPartition partition, ILogger? logger, Action? onEnded) =>
        new(decision.Allowed, decision, decision.Allowed ? null : decision.Reason ?? DefaultRefusal, partition, logger, decision.LeaseId is null ? null : onEnded);

    public override bool IsAcquired { get; }

    public override IEnumerable<string> MetadataNames =>
        _decision is null ? (_reason is null ? [] : ReasonOnlyMetadata) : IsAcquired ? AcquiredMetadata : HasRetryAfter ? RefusedMetadata : NeverMetadata;

    // A request that can never succeed (more permits than the policy ever gives) has no time to retry after.
    private bool HasRetryAfter => _decision is { Allowed: false, RetryAfter: var retryAfter } && retryAfter >= TimeSpan.Zero;

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = metadataName switch
        {
            _ when metadataName == RedisRateLimiter.DecisionMetadataName.Name => _decision,
            _ when metadataName == MetadataName.ReasonPhrase.Name => _reason,
            _ when metadataName == MetadataName.RetryAfter.Name && HasRetryAfter => _decision!.RetryAfter,
            _ => null,
        };
        return metadata is not null;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && Interlocked.Exchange(ref _disposed, 1) == 0 && _decision is { Allowed: true, LeaseId: { } leaseId } && _partition is not null)
        {
            Interlocked.Exchange(ref _onEnded, null)?.Invoke();
            ReleaseAsync(_partition, leaseId).LogFailure(_logger ?? NullLogger.Instance, RedisRateLimiterLog.ReleaseFailed);
        }

        base.Dispose(disposing);
    }

    private static async Task ReleaseAsync(RedisRateLimitPartition partition, string leaseId) =>
        await partition.Service.ReleaseAsync(partition.Policy, leaseId, CancellationToken.None);
}
