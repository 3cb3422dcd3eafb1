using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Core.Tests.RateLimiting;

/// <summary>
/// The System.Threading.RateLimiting adapters over <see cref="IRateLimitService"/>: how a decision becomes a lease
/// (metadata, release on dispose), what the synchronous attempt answers, statistics and idleness. The decisions
/// themselves are Redis's (integration tests); here a scripted service stands in so each mapping is checked exactly.
/// </summary>
public sealed class RedisRateLimiterTests
{
    private static CancellationToken Cancellation => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcquireAsync_Allowed_AcquiredLeaseCarriesTheDecisionOnly()
    {
        var decision = new RateLimitDecision(true, 10, 9, TimeSpan.FromSeconds(1), TimeSpan.Zero);
        var service = new ScriptedService(decision);
        using var limiter = new RedisRateLimiter(service, "api", "user-1", new RedisRateLimiterOptions { Priority = RateLimitPriority.Critical });

        using var lease = await limiter.AcquireAsync(3, Cancellation);

        Assert.True(lease.IsAcquired);
        Assert.Equal(("api", "user-1", 3, RateLimitPriority.Critical), service.Calls.Single());
        Assert.True(lease.TryGetMetadata(RedisRateLimiter.DecisionMetadataName, out var carried));
        Assert.Same(decision, carried);
        Assert.False(lease.TryGetMetadata(MetadataName.RetryAfter, out _));
        Assert.False(lease.TryGetMetadata(MetadataName.ReasonPhrase, out _));
        Assert.Equal([RedisRateLimiter.DecisionMetadataName.Name], lease.MetadataNames);
    }

    [Fact]
    public async Task AcquireAsync_Refused_LeaseCarriesRetryAfterReasonAndDecision()
    {
        var decision = new RateLimitDecision(false, 10, 0, TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(1500), Reason: "more permits than the limit");
        using var limiter = new RedisRateLimiter(new ScriptedService(decision), "api", "user-1");

        using var lease = await limiter.AcquireAsync(1, Cancellation);

        Assert.False(lease.IsAcquired);
        Assert.True(lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), retryAfter);
        Assert.True(lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Equal("more permits than the limit", reason);
        Assert.True(lease.TryGetMetadata(RedisRateLimiter.DecisionMetadataName, out var carried));
        Assert.Same(decision, carried);
        Assert.Equal(3, lease.MetadataNames.Count());
        Assert.False(lease.TryGetMetadata("something-else", out _));
    }

    [Fact]
    public async Task AcquireAsync_RefusedWithoutReason_HasADefaultReasonPhrase()
    {
        using var limiter = new RedisRateLimiter(new ScriptedService(new RateLimitDecision(false, 1, 0, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1))), "api", "k");

        using var lease = await limiter.AcquireAsync(1, Cancellation);

        Assert.True(lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.False(string.IsNullOrEmpty(reason));
    }

    [Fact]
    public async Task AcquireAsync_RefusedForever_NoRetryAfter()
    {
        var decision = new RateLimitDecision(false, 3, 3, TimeSpan.Zero, Timeout.InfiniteTimeSpan, Reason: "4 permits are more than the policy ever allows");
        using var limiter = new RedisRateLimiter(new ScriptedService(decision), "api", "k");

        using var lease = await limiter.AcquireAsync(4, Cancellation);

        Assert.False(lease.TryGetMetadata(MetadataName.RetryAfter, out _));
        Assert.Equal([MetadataName.ReasonPhrase.Name, RedisRateLimiter.DecisionMetadataName.Name], lease.MetadataNames);
        Assert.True(lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Equal(decision.Reason, reason);
    }

    [Fact]
    public void AttemptAcquire_NeverGrants_AndSaysToUseAcquireAsync()
    {
        var service = new ScriptedService(new RateLimitDecision(true, 10, 9, TimeSpan.Zero, TimeSpan.Zero));
        using var limiter = new RedisRateLimiter(service, "api", "k");

        using var lease = limiter.AttemptAcquire(1);

        Assert.False(lease.IsAcquired);
        Assert.True(lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Equal(RedisRateLimiter.AttemptAcquireReason, reason);
        Assert.Equal([MetadataName.ReasonPhrase.Name], lease.MetadataNames);
        Assert.Empty(service.Calls);
    }

    [Fact]
    public async Task Acquire_ZeroPermitsOrDisposed_Throws()
    {
        var limiter = new RedisRateLimiter(new ScriptedService(new RateLimitDecision(true, 1, 0, TimeSpan.Zero, TimeSpan.Zero)), "api", "k");
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await limiter.AcquireAsync(0, Cancellation));
        Assert.Throws<ArgumentOutOfRangeException>(() => limiter.AttemptAcquire(0));

        limiter.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await limiter.AcquireAsync(1, Cancellation));
        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquire(1));
    }

    [Fact]
    public void Constructor_InvalidArguments_Throws()
    {
        var service = new ScriptedService();
        Assert.Throws<ArgumentNullException>(() => new RedisRateLimiter(null!, "api", "k"));
        Assert.Throws<ArgumentException>(() => new RedisRateLimiter(service, "", "k"));
        Assert.Throws<ArgumentException>(() => new RedisRateLimiter(service, "api", ""));
    }

    [Fact]
    public async Task AcquireAsync_ServiceFails_TheFailureReachesTheCaller()
    {
        var service = new ScriptedService { Failure = new RateLimitPolicyNotFoundException("api") };
        using var limiter = new RedisRateLimiter(service, "api", "k");

        await Assert.ThrowsAsync<RateLimitPolicyNotFoundException>(async () => await limiter.AcquireAsync(1, Cancellation));
    }

    [Fact]
    public async Task ConcurrencyLease_Disposed_ReleasedOnceInRedis_AndIdleOnlyAfterwards()
    {
        var time = new FakeTimeProvider();
        var service = new ScriptedService(new RateLimitDecision(true, 2, 1, TimeSpan.FromSeconds(30), TimeSpan.Zero, LeaseId: "lease-1"));
        using var limiter = new RedisRateLimiter(service, "jobs", "worker", new RedisRateLimiterOptions { TimeProvider = time });

        var lease = await limiter.AcquireAsync(1, Cancellation);
        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Null(limiter.IdleDuration);

        lease.Dispose();
        lease.Dispose();

        await service.Released.Task.WaitAsync(TimeSpan.FromSeconds(10), Cancellation);
        Assert.Equal([("jobs", "lease-1")], service.Releases);
        Assert.Equal(TimeSpan.Zero, limiter.IdleDuration);
        time.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal(TimeSpan.FromSeconds(3), limiter.IdleDuration);
    }

    [Fact]
    public async Task ConcurrencyLease_ReleaseFails_IsLogged()
    {
        var logs = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(new FakeLoggerProvider(logs)));
        var service = new ScriptedService(new RateLimitDecision(true, 2, 1, TimeSpan.FromSeconds(30), TimeSpan.Zero, LeaseId: "lease-1"))
        {
            ReleaseFailure = new CoordinationUnavailableException("down", UnavailableReason.ConnectionFailed),
        };
        using var limiter = new RedisRateLimiter(service, "jobs", "worker", new RedisRateLimiterOptions { LoggerFactory = loggerFactory });

        (await limiter.AcquireAsync(1, Cancellation)).Dispose();

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!logs.GetSnapshot().Any(r => r.Id.Name == "RateLimitLeaseReleaseFailed") && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10, Cancellation);
        }

        var record = Assert.Single(logs.GetSnapshot(), r => r.Id.Name == "RateLimitLeaseReleaseFailed");
        Assert.Equal(LogLevel.Warning, record.Level);
        Assert.IsType<CoordinationUnavailableException>(record.Exception);
    }

    [Fact]
    public async Task LeaseOfAWindowPolicy_Disposed_ReleasesNothing()
    {
        var service = new ScriptedService(new RateLimitDecision(true, 5, 4, TimeSpan.FromSeconds(1), TimeSpan.Zero));
        using var limiter = new RedisRateLimiter(service, "api", "k");

        (await limiter.AcquireAsync(1, Cancellation)).Dispose();
        await Task.Delay(50, Cancellation);

        Assert.Empty(service.Releases);
        Assert.NotNull(limiter.IdleDuration);
    }

    [Fact]
    public async Task GetStatistics_CountsGrantsAndRefusals_AndTheLastRemaining()
    {
        var service = new ScriptedService(
            new RateLimitDecision(true, 3, 2, TimeSpan.FromSeconds(1), TimeSpan.Zero),
            new RateLimitDecision(true, 3, 1, TimeSpan.FromSeconds(1), TimeSpan.Zero),
            new RateLimitDecision(false, 3, 0, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1)));
        using var limiter = new RedisRateLimiter(service, "api", "k");
        Assert.Equal(0, limiter.GetStatistics()!.CurrentAvailablePermits);

        for (var i = 0; i < 2; i++)
        {
            (await limiter.AcquireAsync(1, Cancellation)).Dispose();
        }

        Assert.Equal(1, limiter.GetStatistics()!.CurrentAvailablePermits);
        (await limiter.AcquireAsync(1, Cancellation)).Dispose();

        var statistics = limiter.GetStatistics()!;
        Assert.Equal((2, 1, 0, 0), (statistics.TotalSuccessfulLeases, statistics.TotalFailedLeases, statistics.CurrentAvailablePermits, statistics.CurrentQueuedCount));
    }

    [Fact]
    public async Task Partitioned_ChoosesThePartitionPerResource_NullIsUnlimitedWithoutACall()
    {
        var tenantA = new ScriptedService(new RateLimitDecision(false, 1, 0, TimeSpan.FromSeconds(1), TimeSpan.FromMilliseconds(700)));
        var tenantB = new ScriptedService(new RateLimitDecision(true, 1, 0, TimeSpan.FromSeconds(1), TimeSpan.Zero));
        using var limiter = RedisRateLimiterFactory.CreatePartitioned<string>(resource => resource switch
        {
            "a" => new RedisRateLimitPartition(tenantA, "api", "requests"),
            "b" => new RedisRateLimitPartition(tenantB, "api", "requests"),
            _ => null,
        });

        using var refused = await limiter.AcquireAsync("a", 1, Cancellation);
        using var granted = await limiter.AcquireAsync("b", 1, Cancellation);
        using var unlimited = await limiter.AcquireAsync("health", 1, Cancellation);
        using var unlimitedAttempt = limiter.AttemptAcquire("health", 1);
        using var attempt = limiter.AttemptAcquire("a", 1);

        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.Equal(TimeSpan.FromMilliseconds(700), retryAfter);
        Assert.True(granted.IsAcquired);
        Assert.True(unlimited.IsAcquired);
        Assert.Empty(unlimited.MetadataNames);
        Assert.True(unlimitedAttempt.IsAcquired);
        Assert.False(attempt.IsAcquired);
        Assert.Single(tenantA.Calls);
        Assert.Single(tenantB.Calls);
        Assert.Null(limiter.GetStatistics("a"));
    }

    [Fact]
    public async Task PartitionedByKey_KeyFromTheResource_NullOrEmptyKeyUnlimited_ConcurrencyLeaseReleased()
    {
        var service = new ScriptedService(new RateLimitDecision(true, 1, 0, TimeSpan.FromSeconds(30), TimeSpan.Zero, LeaseId: "l-7"));
        using var limiter = RedisRateLimiterFactory.CreatePartitionedByKey<string?>(service, "jobs", resource => resource);

        (await limiter.AcquireAsync("user-7", 2, Cancellation)).Dispose();
        using var unlimited = await limiter.AcquireAsync(null, 1, Cancellation);
        using var empty = await limiter.AcquireAsync("", 1, Cancellation);

        await service.Released.Task.WaitAsync(TimeSpan.FromSeconds(10), Cancellation);
        Assert.Equal([("jobs", "user-7", 2, RateLimitPriority.Normal)], service.Calls);
        Assert.Equal([("jobs", "l-7")], service.Releases);
        Assert.True(unlimited.IsAcquired && empty.IsAcquired);
    }

    [Fact]
    public async Task Partitioned_ZeroPermitsOrDisposed_Throws_InvalidArgumentsRefused()
    {
        var limiter = RedisRateLimiterFactory.CreatePartitioned<string>(_ => null);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(async () => await limiter.AcquireAsync("a", 0, Cancellation));
        limiter.Dispose();
        Assert.Throws<ObjectDisposedException>(() => limiter.AttemptAcquire("a", 1));

        Assert.Throws<ArgumentNullException>(() => RedisRateLimiterFactory.CreatePartitioned<string>(null!));
        Assert.Throws<ArgumentNullException>(() => RedisRateLimiterFactory.CreatePartitionedByKey<string>(null!, "p", s => s));
        Assert.Throws<ArgumentException>(() => RedisRateLimiterFactory.CreatePartitionedByKey<string>(new ScriptedService(), "", s => s));
        Assert.Throws<ArgumentNullException>(() => RedisRateLimiterFactory.CreatePartitionedByKey<string>(new ScriptedService(), "p", null!));
    }

    /// <summary>Answers the decisions it was given, in order (the last one repeats), and records every call.</summary>
    private sealed class ScriptedService(params RateLimitDecision[] decisions) : IRateLimitService
    {
        private int _next;

        public ConcurrentQueue<(string Policy, string Key, int Permits, RateLimitPriority Priority)> Calls { get; } = new();

        public ConcurrentQueue<(string Policy, string LeaseId)> Releases { get; } = new();

        public TaskCompletionSource Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Exception? Failure { get; init; }

        public Exception? ReleaseFailure { get; init; }

        public ValueTask<RateLimitDecision> AcquireAsync(string policy, string key, int permits = 1, RateLimitPriority priority = RateLimitPriority.Normal, CancellationToken cancellationToken = default)
        {
            if (Failure is not null)
            {
                return ValueTask.FromException<RateLimitDecision>(Failure);
            }

            Calls.Enqueue((policy, key, permits, priority));
            var index = Math.Min(Interlocked.Increment(ref _next) - 1, decisions.Length - 1);
            return ValueTask.FromResult(decisions[index]);
        }

        public ValueTask<RateLimitHierarchyDecision> AcquireAllAsync(IReadOnlyList<RateLimitLevel> levels, int permits = 1, RateLimitPriority priority = RateLimitPriority.Normal, CancellationToken cancellationToken = default) =>
            throw new NotSupportedException("The adapters take one policy at a time.");

        public async ValueTask<bool> ReleaseAsync(string policy, string leaseId, CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            if (ReleaseFailure is not null)
            {
                throw ReleaseFailure;
            }

            Releases.Enqueue((policy, leaseId));
            Released.TrySetResult();
            return true;
        }

        public ValueTask<RateLimitPolicy?> GetPolicyAsync(string policy, CancellationToken cancellationToken = default) =>
            ValueTask.FromResult<RateLimitPolicy?>(null);
    }
}
