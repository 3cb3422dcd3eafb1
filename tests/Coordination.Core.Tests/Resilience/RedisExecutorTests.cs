using System.Diagnostics;
using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using Polly.CircuitBreaker;
using StackExchange.Redis;

namespace Coordination.Core.Tests.Resilience;

public class RedisExecutorTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ResilienceOptions Resilience(int retries = 0, double breakSeconds = 60) => new()
    {
        MaxRetryAttempts = retries,
        MinimumThroughput = 10,
        FailureRatio = 0.5,
        SamplingDuration = TimeSpan.FromSeconds(30),
        BreakDuration = TimeSpan.FromSeconds(breakSeconds),
        AttemptTimeout = TimeSpan.FromSeconds(1),
    };

    private static Task<RedisValue> Get(RedisExecutor executor, bool idempotent = false) =>
        executor.ExecuteAsync("kv.get", idempotent, static (db, key) => db.StringGetAsync(key), (RedisKey)"k", Token).AsTask();

    [Fact]
    public async Task ExecuteAsync_Unreachable_ThrowsUnavailableWithConnectionFailure()
    {
        await using var redis = await UnreachableRedis.StartAsync(Resilience(), Token);

        var ex = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));

        Assert.Equal(UnavailableReason.ConnectionFailed, ex.Reason);
        Assert.IsType<RedisConnectionException>(ex.InnerException);
        Assert.Equal(CircuitState.Closed, redis.Executor.CircuitState);
    }

    [Fact]
    public async Task ExecuteAsync_PoolWithoutConnections_ThrowsUnavailable()
    {
        await using var redis = UnreachableRedis.Create(Resilience());

        var ex = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));

        Assert.Equal(UnavailableReason.ConnectionFailed, ex.Reason);
        Assert.Contains("No Redis connection", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_EnoughFailures_OpensCircuitThenFailsFast()
    {
        await using var redis = await UnreachableRedis.StartAsync(Resilience(), Token);
        var opened = 0;
        TimeSpan? breakDuration = null;
        redis.Events.CircuitOpened += (_, e) =>
        {
            Interlocked.Increment(ref opened);
            breakDuration = e.BreakDuration;
        };
        using var operations = new MetricCollector<long>(redis.Metrics.Meter, "coordination.redis.operations");

        // MinimumThroughput = 10 at a failure ratio of 0.5: the tenth failure opens the circuit.
        var failuresBeforeOpen = 0;
        CoordinationUnavailableException last;
        do
        {
            last = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));
            failuresBeforeOpen += last.Reason == UnavailableReason.CircuitOpen ? 0 : 1;
        }
        while (last.Reason != UnavailableReason.CircuitOpen && failuresBeforeOpen < 50);

        Assert.Equal(10, failuresBeforeOpen);
        Assert.Equal(CircuitState.Open, redis.Executor.CircuitState);
        Assert.Equal(1, Volatile.Read(ref opened));
        Assert.Equal(TimeSpan.FromSeconds(60), breakDuration);
        Assert.IsType<BrokenCircuitException>(last.InnerException, exactMatch: false);

        var attemptsBefore = redis.Pool.GetStatus().Connections.Sum(c => c.Operations);
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < 200; i++)
        {
            var ex = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor, idempotent: i % 2 == 0));
            Assert.Equal(UnavailableReason.CircuitOpen, ex.Reason);
        }

        // Loose bound only (unit tests run on busy machines): 200 rejections far below one attempt timeout each.
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(5));
        Assert.Equal(attemptsBefore, redis.Pool.GetStatus().Connections.Sum(c => c.Operations));
        Assert.Equal(201, operations.GetMeasurementSnapshot().Count(m => (string?)m.Tags["coordination.outcome"] == "rejected"));
        Assert.Equal(10, operations.GetMeasurementSnapshot().Count(m => (string?)m.Tags["coordination.outcome"] == "failure"));
    }

    [Fact]
    public async Task ExecuteAsync_Idempotent_RetriesTransientFailures()
    {
        await using var redis = await UnreachableRedis.StartAsync(Resilience(retries: 2), Token);

        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor, idempotent: true));

        Assert.Equal(3, redis.Pool.GetStatus().Connections.Sum(c => c.Operations));
    }

    [Fact]
    public async Task ExecuteAsync_NonIdempotent_NeverRetried()
    {
        await using var redis = await UnreachableRedis.StartAsync(Resilience(retries: 2), Token);

        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor, idempotent: false));

        Assert.Equal(1, redis.Pool.GetStatus().Connections.Sum(c => c.Operations));
    }

    [Fact]
    public async Task ExecuteAsync_NonTransientFailure_NotRetriedAndNotWrapped()
    {
        await using var redis = await UnreachableRedis.StartAsync(Resilience(retries: 2), Token);
        var calls = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(() => redis.Executor.ExecuteAsync<int, bool>(
            "custom",
            idempotent: true,
            (_, _) =>
            {
                calls++;
                throw new InvalidOperationException("a bug, not an outage");
            },
            0,
            Token).AsTask());

        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task CircuitControl_Isolate_FailsFastWithoutTouchingRedis_CloseRestores()
    {
        await using var redis = await UnreachableRedis.StartAsync(Resilience(), Token);

        await redis.Executor.CircuitControl.IsolateAsync(Token);
        var rejected = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));

        Assert.Equal(CircuitState.Isolated, redis.Executor.CircuitState);
        Assert.Equal(UnavailableReason.CircuitOpen, rejected.Reason);
        Assert.IsType<IsolatedCircuitException>(rejected.InnerException);
        Assert.Equal(0, redis.Pool.GetStatus().Connections.Sum(c => c.Operations));

        await redis.Executor.CircuitControl.CloseAsync(Token);
        var attempted = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));

        Assert.Equal(CircuitState.Closed, redis.Executor.CircuitState);
        Assert.Equal(UnavailableReason.ConnectionFailed, attempted.Reason);
    }

    [Fact]
    public async Task ExecuteAsync_AfterBreakDuration_ProbesRedisAgainAndReopens()
    {
        var time = new FakeTimeProvider();
        await using var redis = await UnreachableRedis.StartAsync(Resilience(breakSeconds: 0.5), time, Token);
        for (var i = 0; i < 10; i++)
        {
            await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));
        }

        Assert.Equal(CircuitState.Open, redis.Executor.CircuitState);
        var attempts = redis.Pool.GetStatus().Connections.Sum(c => c.Operations);

        // A millisecond before the break ends the circuit still rejects without touching Redis.
        time.Advance(TimeSpan.FromMilliseconds(499));
        var early = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));

        Assert.Equal(UnavailableReason.CircuitOpen, early.Reason);
        Assert.Equal(attempts, redis.Pool.GetStatus().Connections.Sum(c => c.Operations));

        time.Advance(TimeSpan.FromMilliseconds(1));
        var probe = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));
        var afterProbe = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => Get(redis.Executor));

        Assert.Equal(UnavailableReason.ConnectionFailed, probe.Reason);
        Assert.Equal(UnavailableReason.CircuitOpen, afterProbe.Reason);
        Assert.Equal(CircuitState.Open, redis.Executor.CircuitState);
        Assert.Equal(attempts + 1, redis.Pool.GetStatus().Connections.Sum(c => c.Operations));
    }

    [Fact]
    public async Task ExecuteAsync_CancelledToken_ThrowsOperationCanceled()
    {
        await using var redis = await UnreachableRedis.StartAsync(Resilience(), Token);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => redis.Executor.ExecuteAsync(
            "kv.get", idempotent: true, static (db, key) => db.StringGetAsync(key), (RedisKey)"k", cancelled.Token).AsTask());
    }

    // Polly validates its own options when the executor is built, outside of options validation: a value the
    // validator lets through but Polly refuses would fail at first resolution with a message that names Polly's option.
    [Fact]
    public async Task Validator_RejectsBreakDurationPollyRejects()
    {
        var resilience = new ResilienceOptions { BreakDuration = TimeSpan.FromMilliseconds(499) };
        var pollyAccepts = true;
        try
        {
            await using var redis = UnreachableRedis.Create(resilience);
        }
        catch (System.ComponentModel.DataAnnotations.ValidationException)
        {
            pollyAccepts = false;
        }

        var validatorAccepts = new CoordinationOptionsValidator().Validate(null, new CoordinationOptions { Resilience = resilience }).Succeeded;

        Assert.False(pollyAccepts);
        Assert.False(validatorAccepts);
    }

    // The attempt timeout is the client's AsyncTimeout, expired by a heartbeat of at least 50 ms: a few
    // milliseconds cannot be honoured, so the validator refuses them.
    [Theory]
    [InlineData(9, false)]
    [InlineData(10, true)]
    public void Validator_AttemptTimeoutBelowTenMilliseconds_Rejected(int milliseconds, bool accepted)
    {
        var options = new CoordinationOptions { Resilience = { AttemptTimeout = TimeSpan.FromMilliseconds(milliseconds) } };

        var result = new CoordinationOptionsValidator().Validate(null, options);

        Assert.Equal(accepted, result.Succeeded);
        if (!accepted)
        {
            Assert.Contains("AttemptTimeout", result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
