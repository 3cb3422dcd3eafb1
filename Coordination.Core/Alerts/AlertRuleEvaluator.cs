using System.Globalization;

namespace Coordination;

/// <summary>
/// The rules this node evaluates from its own events and metrics: pure logic over what it is told (events, samples,
/// a status snapshot) and a <see cref="TimeProvider"/>, so unit tests drive it with fakes. Thread-safe: events arrive
/// on the threads that saw them, evaluations on the runtime's loop.
/// </summary>
internal sealed class AlertRuleEvaluator(AlertsOptions options, TimeProvider time)
{
    private readonly Lock _gate = new();
    private long? _circuitOpenSince;
    private CircuitState _circuit = CircuitState.Closed;
    private readonly Queue<(long Timestamp, LockLostReason Reason)> _locksLost = new();

    public LatencyWindow Latency { get; } = new();

    /// <summary>The circuit opened (event): the open time counts from now unless it was already open.</summary>
    public void OnCircuitOpened()
    {
        lock (_gate)
        {
            _circuitOpenSince ??= time.GetTimestamp();
            _circuit = CircuitState.Open;
        }
    }

    /// <summary>The circuit closed (event).</summary>
    public void OnCircuitClosed()
    {
        lock (_gate)
        {
            _circuitOpenSince = null;
            _circuit = CircuitState.Closed;
        }
    }

    /// <summary>A lock held through a handle was lost (event); at most 1000 losses are remembered.</summary>
    public void OnLockLost(LockLostReason reason)
    {
        lock (_gate)
        {
            _locksLost.Enqueue((time.GetTimestamp(), reason));
            while (_locksLost.Count > 1000)
            {
                _locksLost.Dequeue();
            }
        }
    }

    /// <summary>A Redis round trip of <paramref name="seconds"/> that ended now.</summary>
    public void RecordLatency(double seconds) => Latency.Record(time.GetTimestamp(), seconds);

    /// <summary>Evaluates every rule of <see cref="AlertRules.Evaluated"/> against the node's <paramref name="status"/>.</summary>
    public IReadOnlyList<AlertCondition> Evaluate(AlertNodeStatus status)
    {
        var now = time.GetTimestamp();
        var conditions = new List<AlertCondition>(AlertRules.Evaluated.Count);
        lock (_gate)
        {
            // The events say when; the snapshot corrects a missed event (the state is read lazily after a break).
            if (status.Circuit == CircuitState.Closed)
            {
                _circuitOpenSince = null;
            }
            else
            {
                _circuitOpenSince ??= now;
            }

            _circuit = status.Circuit;
            var openFor = _circuitOpenSince is { } since ? time.GetElapsedTime(since, now) : TimeSpan.Zero;
            var circuitFiring = _circuitOpenSince is not null && openFor >= options.CircuitOpenThreshold;
            conditions.Add(new AlertCondition(
                AlertRules.CircuitOpen,
                circuitFiring,
                circuitFiring ? string.Create(CultureInfo.InvariantCulture, $"The circuit breaker is {Describe(_circuit)} for {openFor.TotalSeconds:0} s (threshold {options.CircuitOpenThreshold.TotalSeconds:0.###} s): Redis calls fail fast.") : null));

            while (_locksLost.TryPeek(out var oldest) && time.GetElapsedTime(oldest.Timestamp, now) > options.LockLostWindow)
            {
                _locksLost.Dequeue();
            }

            var lockFiring = _locksLost.Count > 0;
            conditions.Add(new AlertCondition(
                AlertRules.LockLost,
                lockFiring,
                lockFiring ? string.Create(CultureInfo.InvariantCulture, $"{_locksLost.Count} lock(s) lost in the last {options.LockLostWindow.TotalSeconds:0} s; last reason {_locksLost.Last().Reason}.") : null));
        }

        var windowStart = now - (long)(options.LatencyWindow.TotalSeconds * time.TimestampFrequency);
        var (p99, samples) = Latency.Percentile99(windowStart);
        var latencyFiring = samples >= options.LatencyMinimumSamples && p99 > options.LatencyThreshold.TotalSeconds;
        conditions.Add(new AlertCondition(
            AlertRules.RedisLatency,
            latencyFiring,
            latencyFiring ? string.Create(CultureInfo.InvariantCulture, $"p99 of {samples} Redis round trips in the last {options.LatencyWindow.TotalSeconds:0} s is {p99 * 1000:0.#} ms (threshold {options.LatencyThreshold.TotalMilliseconds:0.#} ms).") : null));

        conditions.Add(new AlertCondition(
            AlertRules.FallbackEngaged,
            status.FallbackActive,
            status.FallbackActive ? string.Create(CultureInfo.InvariantCulture, $"Key/value calls are served by the PostgreSQL fallback; {status.MirrorBacklog} writes wait to be mirrored.") : null));

        var backlogFiring = status.MirrorBacklog > options.MirrorBacklogThreshold;
        conditions.Add(new AlertCondition(
            AlertRules.MirrorBacklog,
            backlogFiring,
            backlogFiring ? string.Create(CultureInfo.InvariantCulture, $"{status.MirrorBacklog} writes wait to be mirrored into PostgreSQL (threshold {options.MirrorBacklogThreshold}).") : null));
        return conditions;
    }

    private static string Describe(CircuitState state) => state switch
    {
        CircuitState.Isolated => "isolated by hand",
        CircuitState.HalfOpen => "half-open (probing)",
        _ => "open",
    };
}
