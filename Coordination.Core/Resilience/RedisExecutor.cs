using System.Collections.Concurrent;
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
    private readonly ResilienceOptions _options;
    private readonly CoordinationEvents _events;
    private readonly TimeProvider _timeProvider;
    private readonly ILoggerFactory _loggerFactory;
    private readonly Circuit _shared;
    private readonly ConcurrentDictionary<string, Circuit> _nodeCircuits = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private readonly long _samplingMilliseconds;

    // On a Redis Cluster: the circuit of each hash slot's node, filled as calls come and dropped when the topology
    // changes (a failover moves slots to another node). Null on one server or a Sentinel group: one circuit for all.
    private Circuit?[]? _slotCircuits;
    private int _topologyRead;

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
        _options = options;
        _events = events;
        _timeProvider = timeProvider;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<RedisExecutor>();
        _samplingMilliseconds = (long)Math.Ceiling(options.SamplingDuration.TotalMilliseconds);
        _shared = BuildCircuit(node: null);
        CircuitControl = _shared.Control;

        events.ConnectionRestored += (_, _) => EndBreakIfOpen();
        pool.TopologyChanged += OnTopologyChanged;

        metrics.Meter.CreateObservableGauge("coordination.pool.connections", () => new[]
        {
            new Measurement<int>(pool.Size, new KeyValuePair<string, object?>("coordination.connection.state", "open")),
            new Measurement<int>(pool.ConnectedCount, new KeyValuePair<string, object?>("coordination.connection.state", "connected")),
        }, "{connection}", "Connections in the Redis pool.");
        metrics.Meter.CreateObservableGauge("coordination.pool.outstanding", () => pool.Outstanding, "{operation}", "Redis operations in flight across the pool.");
        metrics.Meter.CreateObservableGauge("coordination.circuit.state", () => (int)CircuitState, "{state}", "Circuit breaker state: 0 closed, 1 open, 2 half-open, 3 isolated.");
        metrics.Meter.CreateObservableGauge("coordination.circuit.nodes.open", () => OpenNodeCircuits, "{circuit}", "Circuits of Redis Cluster nodes that are open (calls to their slots fail at once).");
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
        if (_pool.ConnectedCount != _pool.Size)
        {
            return;
        }

        foreach (var circuit in _nodeCircuits.Values.Prepend(_shared))
        {
            if (circuit.State.CircuitState == Polly.CircuitBreaker.CircuitState.Open)
            {
                _ = EndBreakAsync(circuit);
            }
        }
    }

    private void OnTopologyChanged()
    {
        // Slots may have moved (a replica promoted): their nodes are looked up again as calls come.
        Volatile.Write(ref _topologyRead, 0);
        EndBreakIfOpen();
    }

    private async Task EndBreakAsync(Circuit circuit)
    {
        try
        {
            await circuit.Control.CloseAsync().ConfigureAwait(false);
            ResilienceLog.BreakEndedEarly(_logger);
        }
#pragma warning disable CA1031 // The break then ends on its timer as before; nothing to propagate from an event handler.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ResilienceLog.BreakEndFailed(_logger, ex);
        }
    }

    private int OpenNodeCircuits => _nodeCircuits.Values.Count(c => c.State.CircuitState == Polly.CircuitBreaker.CircuitState.Open);

    /// <summary>
    /// The circuit a call about <paramref name="routingKey"/> goes through: on a Redis Cluster, the circuit of the node
    /// that serves the key's slot, so one node failing does not stop the calls the others serve; otherwise (and while
    /// the shared circuit is isolated by hand, or the node is not known) the shared one.
    /// </summary>
    private Circuit CircuitFor(in RedisKey routingKey)
    {
        if (Volatile.Read(ref _topologyRead) == 0)
        {
            ReadTopology();
        }

        var slots = Volatile.Read(ref _slotCircuits);
        if (slots is null || _shared.State.CircuitState == Polly.CircuitBreaker.CircuitState.Isolated)
        {
            return _shared;
        }

        try
        {
            var multiplexer = _pool.RentMultiplexer();
            var slot = multiplexer.HashSlot(routingKey);
            if ((uint)slot >= (uint)slots.Length)
            {
                return _shared;
            }

            if (slots[slot] is { } known)
            {
                return known;
            }

            if (HashSlot.KnownConfiguration(multiplexer)?.GetBySlot(slot)?.EndPoint is not { } endPoint)
            {
                return _shared;
            }

            return slots[slot] = _nodeCircuits.GetOrAdd(EndPointCollection.ToString(endPoint), BuildCircuit);
        }
        catch (Exception ex) when (ex is CoordinationUnavailableException or InvalidOperationException or RedisException)
        {
            // No connection yet, or none to the slot's node at this moment: the shared circuit decides.
            return _shared;
        }
    }

    private void ReadTopology()
    {
        try
        {
            var multiplexer = _pool.RentMultiplexer();
            var servers = multiplexer.GetServers();
            if (!servers.Any(s => s.IsConnected))
            {
                return;
            }

            var cluster = servers.Any(s => s.ServerType == ServerType.Cluster);
            Volatile.Write(ref _slotCircuits, cluster ? new Circuit?[HashSlot.Count] : null);
            Volatile.Write(ref _topologyRead, 1);
        }
        catch (CoordinationUnavailableException)
        {
            // The pool has no connection yet: read again at the next call.
        }
    }

    /// <summary>Opens or closes the circuit by hand (operations, tests).</summary>
    public CircuitBreakerManualControl CircuitControl { get; }

    /// <summary>The instruments the executor records on, for the outcomes of its callers that are not Redis's (quota refusals).</summary>
    public CoordinationMetrics Metrics => _metrics;

    /// <summary>The shared circuit's state (a Redis Cluster node's own circuit is logged and counted, not reported here).</summary>
    public CircuitState CircuitState => _shared.State.CircuitState switch
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
        RunAsync(operation, idempotent, call, state, _shared, insidePipelines: false, cancellationToken);

    /// <summary>
    /// Like <see cref="ExecuteAsync{TState, TResult}(string, bool, Func{IDatabase, TState, Task{TResult}}, TState, CancellationToken)"/>
    /// for a call about <paramref name="routingKey"/> (every key it touches is in that key's hash slot): on a Redis
    /// Cluster it goes through the circuit of the node serving that slot.
    /// </summary>
    public ValueTask<TResult> ExecuteAsync<TState, TResult>(
        string operation,
        RedisKey routingKey,
        bool idempotent,
        Func<IDatabase, TState, Task<TResult>> call,
        TState state,
        CancellationToken cancellationToken) =>
        RunAsync(operation, idempotent, call, state, CircuitFor(routingKey), insidePipelines: false, cancellationToken);

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
        Circuit circuit,
        bool insidePipelines,
        CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (!insidePipelines && !circuit.IsQuiet)
        {
            return await ExecuteThroughPipelineAsync(operation, idempotent, call, state, circuit, null, started, cancellationToken);
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
            circuit.NoteFailure(_samplingMilliseconds);
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
        return await ExecuteThroughPipelineAsync(operation, idempotent, call, state, circuit, failure, started, cancellationToken);
    }

    private async ValueTask<TResult> ExecuteThroughPipelineAsync<TState, TResult>(
        string operation,
        bool idempotent,
        Func<IDatabase, TState, Task<TResult>> call,
        TState state,
        Circuit circuit,
        ExceptionDispatchInfo? firstFailure,
        long started,
        CancellationToken cancellationToken)
    {
        var pipeline = idempotent ? circuit.Idempotent : circuit.NonIdempotent;
        var attempt = new PipelineAttempt<TState, TResult>(this, operation, idempotent, call, state, circuit, firstFailure);
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
        Circuit circuit,
        ExceptionDispatchInfo? pendingFailure)
    {
        private ExceptionDispatchInfo? _pendingFailure = pendingFailure;

        public ValueTask<TResult> RunAsync(CancellationToken cancellationToken)
        {
            if (Interlocked.Exchange(ref _pendingFailure, null) is { } failure)
            {
                failure.Throw();
            }

            return executor.RunAsync(operation, idempotent, call, state, circuit, insidePipelines: true, cancellationToken);
        }
    }

    private Circuit BuildCircuit(string? node)
    {
        var state = new CircuitBreakerStateProvider();
        var control = new CircuitBreakerManualControl();
        Circuit? built = null;
        var breaker = new ResiliencePipelineBuilder { Name = CircuitPipelineName, InstanceName = node, TimeProvider = _timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = _options.FailureRatio,
                MinimumThroughput = _options.MinimumThroughput,
                SamplingDuration = _options.SamplingDuration,
                BreakDuration = _options.BreakDuration,
                StateProvider = state,
                ManualControl = control,
                // CLUSTERDOWN is the whole cluster's state, answered at once by a node that is well: a node's circuit opened
                // on it would stay open for its break after the cluster has healed, refusing a node that serves again.
                ShouldHandle = node is null
                    ? new PredicateBuilder().Handle<Exception>(ExceptionFactory.IsTransient)
                    : new PredicateBuilder().Handle<Exception>(ex => ExceptionFactory.IsTransient(ex) && !ExceptionFactory.IsClusterDown(ex)),
                OnOpened = args =>
                {
                    Volatile.Write(ref built!.BreakerEngaged, 1);
                    if (node is null)
                    {
                        _events.OnCircuitOpened(new CircuitEventArgs(CircuitState.Open, args.BreakDuration, args.Outcome.Exception));
                    }
                    else
                    {
                        ResilienceLog.NodeCircuitOpened(_logger, node, args.BreakDuration, args.Outcome.Exception);
                    }

                    return default;
                },
                OnClosed = _ =>
                {
                    Volatile.Write(ref built!.BreakerEngaged, 0);
                    if (node is null)
                    {
                        _events.OnCircuitClosed(new CircuitEventArgs(CircuitState.Closed, null, null));
                    }
                    else
                    {
                        ResilienceLog.NodeCircuitClosed(_logger, node);
                    }

                    return default;
                },
                OnHalfOpened = _ =>
                {
                    if (node is null)
                    {
                        _events.OnCircuitHalfOpened();
                    }

                    return default;
                },
            })
            .ConfigureTelemetry(Telemetry(_loggerFactory))
            .Build();

        var idempotent = new ResiliencePipelineBuilder { Name = IdempotentPipelineName, InstanceName = node, TimeProvider = _timeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(1, _options.MaxRetryAttempts),
                Delay = _options.RetryBaseDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(
                    _options.MaxRetryAttempts > 0 && args.Outcome.Exception is { } ex && ExceptionFactory.IsTransient(ex)),
            })
            .AddPipeline(breaker)
            .ConfigureTelemetry(Telemetry(_loggerFactory))
            .Build();

        var nonIdempotent = new ResiliencePipelineBuilder { Name = NonIdempotentPipelineName, InstanceName = node, TimeProvider = _timeProvider }
            .AddPipeline(breaker)
            .ConfigureTelemetry(Telemetry(_loggerFactory))
            .Build();

        built = new Circuit(idempotent, nonIdempotent, state, control);
        return built;
    }

    /// <summary>
    /// One circuit breaker with the pipelines through it: the shared one, or a Redis Cluster node's. While it is quiet
    /// (no transient failure within the last sampling duration and the breaker closed) calls skip the pipelines: they
    /// cost several times the call itself under load, and while nothing fails they would only count successes. The
    /// breaker therefore samples from the first failure on, for a sampling duration after the last one: a run of
    /// failures opens it even after a long quiet stretch, which it would otherwise dilute.
    /// </summary>
    private sealed class Circuit(ResiliencePipeline idempotent, ResiliencePipeline nonIdempotent, CircuitBreakerStateProvider state, CircuitBreakerManualControl control)
    {
        public int BreakerEngaged;
        private long _sampleEveryCallUntil;

        public ResiliencePipeline Idempotent { get; } = idempotent;

        public ResiliencePipeline NonIdempotent { get; } = nonIdempotent;

        public CircuitBreakerStateProvider State { get; } = state;

        public CircuitBreakerManualControl Control { get; } = control;

        public bool IsQuiet =>
            Environment.TickCount64 >= Volatile.Read(ref _sampleEveryCallUntil) && Volatile.Read(ref BreakerEngaged) == 0;

        public void NoteFailure(long samplingMilliseconds)
        {
            var until = Environment.TickCount64 + samplingMilliseconds;
            if (until > Volatile.Read(ref _sampleEveryCallUntil))
            {
                Volatile.Write(ref _sampleEveryCallUntil, until);
            }
        }
    }
}
