using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Telemetry;
using Polly.Timeout;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Runs Redis calls through the resilience pipelines and the pool. Idempotent calls: retry with exponential
/// backoff and jitter, then the shared circuit breaker. Other calls skip the retry. The per-attempt timeout is the
/// client's own (<c>AsyncTimeout</c>, set from <see cref="ResilienceOptions.AttemptTimeout"/>): it is checked by
/// the client's heartbeat, whereas a timeout strategy would cost a timer and a cancellation source per call.
/// Every failure leaves as <see cref="CoordinationUnavailableException"/>; an open circuit fails at once.
/// </summary>
internal sealed class RedisExecutor
{
    public const string IdempotentPipelineName = "coordination.redis.idempotent";
    public const string NonIdempotentPipelineName = "coordination.redis.non-idempotent";
    public const string CircuitPipelineName = "coordination.redis.circuit";

    private readonly RedisConnectionPool _pool;
    private readonly CoordinationMetrics _metrics;
    private readonly ResiliencePipeline _idempotent;
    private readonly ResiliencePipeline _nonIdempotent;
    private readonly CircuitBreakerStateProvider _circuitState = new();

    public RedisExecutor(
        RedisConnectionPool pool,
        ResilienceOptions options,
        CoordinationEvents events,
        CoordinationMetrics metrics,
        ILoggerFactory loggerFactory)
    {
        _pool = pool;
        _metrics = metrics;
        Events = events;
        CircuitControl = new CircuitBreakerManualControl();

        var circuit = new ResiliencePipelineBuilder { Name = CircuitPipelineName }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = options.FailureRatio,
                MinimumThroughput = options.MinimumThroughput,
                SamplingDuration = options.SamplingDuration,
                BreakDuration = options.BreakDuration,
                StateProvider = _circuitState,
                ManualControl = CircuitControl,
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ExceptionFactory.IsTransient),
                OnOpened = args =>
                {
                    events.OnCircuitOpened(new CircuitEventArgs(CircuitState.Open, args.BreakDuration, args.Outcome.Exception));
                    return default;
                },
                OnClosed = _ =>
                {
                    events.OnCircuitClosed(new CircuitEventArgs(CircuitState.Closed, null, null));
                    return default;
                },
                OnHalfOpened = _ =>
                {
                    events.OnCircuitHalfOpened();
                    return default;
                },
            })
            .ConfigureTelemetry(Telemetry(loggerFactory))
            .Build();

        _idempotent = new ResiliencePipelineBuilder { Name = IdempotentPipelineName }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, options.MaxRetryAttempts),
                Delay = options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(
                    options.MaxRetryAttempts > 0 && args.Outcome.Exception is { } ex && ExceptionFactory.IsTransient(ex)),
            })
            .AddPipeline(circuit)
            .ConfigureTelemetry(Telemetry(loggerFactory))
            .Build();

        _nonIdempotent = new ResiliencePipelineBuilder { Name = NonIdempotentPipelineName }
            .AddPipeline(circuit)
            .ConfigureTelemetry(Telemetry(loggerFactory))
            .Build();
    }

    // Retries and failed attempts are routine under load; the circuit's own events carry the Warning level.
    private static TelemetryOptions Telemetry(ILoggerFactory loggerFactory) => new()
    {
        LoggerFactory = loggerFactory,
        SeverityProvider = args => args.Event.EventName is "OnRetry" or "ExecutionAttempt" ? ResilienceEventSeverity.Debug : args.Event.Severity,
    };

    /// <summary>Opens or closes the circuit by hand (operations, tests).</summary>
    public CircuitBreakerManualControl CircuitControl { get; }

    public CircuitState CircuitState => _circuitState.CircuitState switch
    {
        Polly.CircuitBreaker.CircuitState.Open => CircuitState.Open,
        Polly.CircuitBreaker.CircuitState.HalfOpen => CircuitState.HalfOpen,
        Polly.CircuitBreaker.CircuitState.Isolated => CircuitState.Isolated,
        _ => CircuitState.Closed,
    };

    public RedisConnectionPool Pool => _pool;

    /// <summary>The events of the platform, for the capabilities built on this executor.</summary>
    public CoordinationEvents Events { get; }

    /// <summary>The instruments of the platform, for the capabilities built on this executor.</summary>
    public CoordinationMetrics Metrics => _metrics;

    public async ValueTask<TResult> ExecuteAsync<TState, TResult>(
        string operation,
        bool idempotent,
        Func<IDatabase, TState, Task<TResult>> call,
        TState state,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var pipeline = idempotent ? _idempotent : _nonIdempotent;
        try
        {
            var result = await pipeline.ExecuteAsync(
                static (context, token) => context.Pool.RunAsync(context.Call, context.State, token),
                (Pool: _pool, Call: call, State: state),
                cancellationToken);
            _metrics.RecordOperation(operation, "success", started);
            return result;
        }
        catch (Exception ex) when (ex is BrokenCircuitException or CoordinationUnavailableException || ExceptionFactory.IsTransient(ex))
        {
            _metrics.RecordOperation(operation, ex is BrokenCircuitException ? "rejected" : "failure", started);
            throw ExceptionFactory.Unavailable(operation, ex);
        }
    }
}
