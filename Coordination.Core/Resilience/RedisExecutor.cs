using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.ExceptionServices;
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
    private readonly ILogger _logger;
    private readonly long _samplingMilliseconds;
    private long _sampleEveryCallUntil;
    private int _breakerEngaged;

    public RedisExecutor(
        RedisConnectionPool pool,
        ResilienceOptions options,
        CoordinationEvents events,
        CoordinationMetrics metrics,
        TimeProvider timeProvider,
        ILoggerFactory loggerFactory)
    {
        _pool = pool;
        _metrics = metrics;
        CircuitControl = new CircuitBreakerManualControl();
        _logger = loggerFactory.CreateLogger<RedisExecutor>();
        _samplingMilliseconds = (long)Math.Ceiling(options.SamplingDuration.TotalMilliseconds);

        var circuit = new ResiliencePipelineBuilder { Name = CircuitPipelineName, TimeProvider = timeProvider }
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
                    Volatile.Write(ref _breakerEngaged, 1);
                    events.OnCircuitOpened(new CircuitEventArgs(CircuitState.Open, args.BreakDuration, args.Outcome.Exception));
                    return default;
                },
                OnClosed = _ =>
                {
                    Volatile.Write(ref _breakerEngaged, 0);
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

        _idempotent = new ResiliencePipelineBuilder { Name = IdempotentPipelineName, TimeProvider = timeProvider }
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

        _nonIdempotent = new ResiliencePipelineBuilder { Name = NonIdempotentPipelineName, TimeProvider = timeProvider }
            .AddPipeline(circuit)
            .ConfigureTelemetry(Telemetry(loggerFactory))
            .Build();

        events.ConnectionRestored += (_, _) => EndBreakIfOpen();
        pool.TopologyChanged += EndBreakIfOpen;

        metrics.Meter.CreateObservableGauge("coordination.pool.connections", () => new[]
        {
            new Measurement<int>(pool.Size, new KeyValuePair<string, object?>("coordination.connection.state", "open")),
            new Measurement<int>(pool.ConnectedCount, new KeyValuePair<string, object?>("coordination.connection.state", "connected")),
        }, "{connection}", "Connections in the Redis pool.");
        metrics.Meter.CreateObservableGauge("coordination.pool.outstanding", () => pool.Outstanding, "{operation}", "Redis operations in flight across the pool.");
        metrics.Meter.CreateObservableGauge("coordination.circuit.state", () => (int)CircuitState, "{state}", "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated.");
    }

    // Retries and failed attempts are routine under load; the circuit's own events carry the Warning level.
    private static TelemetryOptions Telemetry(ILoggerFactory loggerFactory) => new()
    {
        LoggerFactory = loggerFactory,
        SeverityProvider = args => args.Event.EventName is "OnRetry" or "ExecutionAttempt" ? ResilienceEventSeverity.Debug : args.Event.Severity,
    };

    // A connection that came back has completed its handshake with the server, and a changed topology (a replica
    // promoted by Cluster or Sentinel) names a new server for the failed one: once every pooled connection is
    // connected again, that is the probe the break waits for, so the break ends now instead of after BreakDuration.
    // Not before: calls routed to a connection still reconnecting would fail and open the circuit again. A circuit
    // isolated by hand stays isolated, and a server that is still unwell opens it again after MinimumThroughput failures.
    private void EndBreakIfOpen()
    {
        if (_circuitState.CircuitState == Polly.CircuitBreaker.CircuitState.Open && _pool.ConnectedCount == _pool.Size)
        {
            _ = EndBreakAsync();
        }
    }

    private async Task EndBreakAsync()
    {
        try
        {
            await CircuitControl.CloseAsync().ConfigureAwait(false);
            ResilienceLog.BreakEndedEarly(_logger);
        }
#pragma warning disable CA1031 // The break then ends on its timer as before; nothing to propagate from an event handler.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ResilienceLog.BreakEndFailed(_logger, ex);
        }
    }

    /// <summary>Opens or closes the circuit by hand (operations, tests).</summary>
    public CircuitBreakerManualControl CircuitControl { get; }

    /// <summary>The instruments the executor records on, for the outcomes of its callers that are not Redis's (quota refusals).</summary>
    public CoordinationMetrics Metrics => _metrics;

    public CircuitState CircuitState => _circuitState.CircuitState switch
    {
        Polly.CircuitBreaker.CircuitState.Open => CircuitState.Open,
        Polly.CircuitBreaker.CircuitState.HalfOpen => CircuitState.HalfOpen,
        Polly.CircuitBreaker.CircuitState.Isolated => CircuitState.Isolated,
        _ => CircuitState.Closed,
    };

    public RedisConnectionPool Pool => _pool;

    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        string operation,
        bool idempotent,
        Func<IDatabase, TState, Task<TResult>> call,
        TState state,
        CancellationToken cancellationToken) =>
        RunAsync(operation, idempotent, call, state, insidePipelines: false, cancellationToken);

    /// <summary>
    /// Runs <paramref name="call"/> on the pool's least-loaded connection; when it is answered NOSCRIPT (a script sent
    /// by SHA alone, <see cref="RedisScript.EvaluateByShaAsync"/>, did not run), loads every script and runs it again.
    /// Outside the pipelines: while the executor is quiet the call runs here, records its outcome and hands a transient
    /// failure to the pipelines as their first attempt; otherwise it goes through the pipelines. As one of their
    /// attempts (<paramref name="insidePipelines"/>): the call only, a transient failure noted and left to them.
    /// </summary>
    /// <remarks>One method for both, so the quiet path (every call's path while nothing fails) awaits one frame.</remarks>
    private async ValueTask<TResult> RunAsync<TState, TResult>(
        string operation,
        bool idempotent,
        Func<IDatabase, TState, Task<TResult>> call,
        TState state,
        bool insidePipelines,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (!insidePipelines && !IsQuiet)
        {
            return await ExecuteThroughPipelineAsync(operation, idempotent, call, state, null, started, cancellationToken);
        }

        ExceptionDispatchInfo failure;
        PooledConnection? connection = null;
        var failed = true;
        try
        {
            connection = _pool.Enter();
            var database = connection.Multiplexer.GetDatabase();
            TResult result;
            try
            {
                try
                {
                    result = await call(database, state).WaitAsync(cancellationToken);
                }
                catch (RedisServerException ex) when (RedisScript.IsMissing(ex))
                {
                    try
                    {
                        result = await RedisScript.LoadAllAndRunAgainAsync(database, call, state, cancellationToken);
                    }
                    catch (RedisServerException again) when (RedisScript.IsMissing(again))
                    {
                        // Still missing after every connected server loaded every script: the server answering changed
                        // under the call (a replica promoted by a failover). The call did not run; typed, never raw.
                        throw ExceptionFactory.Unavailable(operation, again);
                    }
                }
            }
            catch (ObjectDisposedException ex) when (!_pool.Contains(database.Multiplexer))
            {
                // The pool closed the connection under the call (replaced as stalled, removed when shrinking, or the
                // pool closing): the client refused to send the call's next command on it. A connection failure like
                // any other, for the retry and the breaker, never a raw ObjectDisposedException (seen right after a
                // Sentinel failover: FailoverAvailabilityTests).
                throw new RedisConnectionException(ConnectionFailureType.ConnectionDisposed, CommandFlags.None, "The connection was closed by the pool under the call.", ex, CommandStatus.Unknown);
            }

            failed = false;
            if (!insidePipelines)
            {
                _metrics.RecordOperation(operation, "success", started);
            }

            return result;
        }
        catch (Exception ex) when (ExceptionFactory.IsTransient(ex))
        {
            NoteFailure();
            if (insidePipelines)
            {
                throw;
            }

            failure = ExceptionDispatchInfo.Capture(ex);
        }
        catch (CoordinationUnavailableException) when (!insidePipelines)
        {
            _metrics.RecordOperation(operation, "failure", started);
            throw;
        }
        catch (RedisServerException ex) when (ExceptionFactory.IsOutOfMemory(ex))
        {
            // Redis is up and answering; it refuses writes until memory is freed. Not transient (no retry, not
            // counted by the breaker), but typed like every other reason Redis cannot serve a call.
            failed = false;
            if (!insidePipelines)
            {
                _metrics.RecordOperation(operation, "failure", started);
            }

            throw ExceptionFactory.Unavailable(operation, ex);
        }
        finally
        {
            connection?.Exit(failed);
        }

        // The failed attempt goes to the pipelines as their first attempt, so the breaker counts it and the retry
        // budget stays what it is configured to be.
        return await ExecuteThroughPipelineAsync(operation, idempotent, call, state, failure, started, cancellationToken);
    }

    /// <summary>
    /// Whether a call may skip the pipelines: no transient failure within the last sampling duration and the breaker
    /// closed. The pipelines cost several times the call itself under load, and while nothing fails they would only
    /// count successes. The breaker therefore samples from the first failure on, for a sampling duration after the
    /// last one: a run of failures opens it even after a long quiet stretch, which it would otherwise dilute.
    /// </summary>
    private bool IsQuiet =>
        Environment.TickCount64 >= Volatile.Read(ref _sampleEveryCallUntil) && Volatile.Read(ref _breakerEngaged) == 0;

    private void NoteFailure()
    {
        var until = Environment.TickCount64 + _samplingMilliseconds;
        if (until > Volatile.Read(ref _sampleEveryCallUntil))
        {
            Volatile.Write(ref _sampleEveryCallUntil, until);
        }
    }

    private async ValueTask<TResult> ExecuteThroughPipelineAsync<TState, TResult>(
        string operation,
        bool idempotent,
        Func<IDatabase, TState, Task<TResult>> call,
        TState state,
        ExceptionDispatchInfo? firstFailure,
        long started,
        CancellationToken cancellationToken)
    {
        var pipeline = idempotent ? _idempotent : _nonIdempotent;
        var attempt = new PipelineAttempt<TState, TResult>(this, operation, idempotent, call, state, firstFailure);
        try
        {
            var result = await pipeline.ExecuteAsync(static (attempt, token) => attempt.RunAsync(token), attempt, cancellationToken);
            _metrics.RecordOperation(operation, "success", started);
            return result;
        }
        catch (Exception ex) when (ex is BrokenCircuitException or CoordinationUnavailableException || ExceptionFactory.IsTransient(ex))
        {
            _metrics.RecordOperation(operation, ex is BrokenCircuitException ? "rejected" : "failure", started);
            throw ExceptionFactory.Unavailable(operation, ex);
        }
    }

    /// <summary>One call inside the pipelines: replays the failure the quiet path already saw, then runs on the pool.</summary>
    private sealed class PipelineAttempt<TState, TResult>(
        RedisExecutor executor,
        string operation,
        bool idempotent,
        Func<IDatabase, TState, Task<TResult>> call,
        TState state,
        ExceptionDispatchInfo? pendingFailure)
    {
        private ExceptionDispatchInfo? _pendingFailure = pendingFailure;

        public ValueTask<TResult> RunAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _pendingFailure, null) is { } failure)
            {
                failure.Throw();
            }

            return executor.RunAsync(operation, idempotent, call, state, insidePipelines: true, cancellationToken);
        }
    }
}
