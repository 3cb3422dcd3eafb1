using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>
/// The effective limits of adaptive policies on this node: one factor of the configured limit, adjusted once per
/// <see cref="RateLimitAdaptiveOptions.Interval"/> (on the first call after it, from the signal's sample of the interval):
/// multiplied by <see cref="RateLimitAdaptiveOptions.DecreaseFactor"/> after a stressed interval, raised by
/// <see cref="RateLimitAdaptiveOptions.IncreaseStep"/> after a healthy one, kept between
/// <see cref="RateLimitAdaptiveOptions.Floor"/> and 1. One factor for all policies, since the signal is Redis's health;
/// node-local, since each node sees its own latency. Exported as <c>coordination.ratelimit.adaptive.limit</c> per policy.
/// </summary>
internal sealed class AdaptiveLimitController
{
    /// <summary>Absorbs the representation error of sums of tenths (0.1 + 0.2 = 0.30000000000000004) before flooring.</summary>
    private const double Tolerance = 1e-9;

    private readonly RateLimitAdaptiveOptions _options;
    private readonly IRateLimitHealthSignal _signal;
    private readonly TimeProvider _timeProvider;
    private readonly ConcurrentDictionary<string, long> _configuredLimits = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private double _factor = 1;
    private long _nextAdjustment;

    public AdaptiveLimitController(RateLimitAdaptiveOptions options, IRateLimitHealthSignal signal, TimeProvider timeProvider, Meter meter)
    {
        _options = options;
        _signal = signal;
        _timeProvider = timeProvider;
        _nextAdjustment = timeProvider.GetTimestamp() + IntervalTicks;
        meter.CreateObservableGauge(
            "coordination.ratelimit.adaptive.limit",
            ObserveLimits,
            "{permit}",
            "The effective limit of each adaptive rate-limit policy on this node (coordination.ratelimit.policy), as of the last definition it applied.");
    }

    /// <summary>The share of the configured limit that applies now (tests read it).</summary>
    public double Factor
    {
        get
        {
            lock (_gate)
            {
                return _factor;
            }
        }
    }

    private long IntervalTicks => (long)(_options.Interval.TotalSeconds * _timeProvider.TimestampFrequency);

    /// <summary>Whether an interval with <paramref name="sample"/> counts as stressed: its 99th percentile over the threshold, or errors above the rate.</summary>
    public static bool IsStressed(RateLimitHealthSample sample, RateLimitAdaptiveOptions options) =>
        sample.Calls > 0 && (sample.SlowCalls * 100 > sample.Calls || sample.FailedCalls > sample.Calls * options.ErrorRateThreshold);

    /// <summary>The factor after one interval: multiplicative decrease under stress, additive increase otherwise.</summary>
    public static double Next(double factor, bool stressed, RateLimitAdaptiveOptions options) =>
        stressed ? Math.Max(options.Floor, factor * options.DecreaseFactor) : Math.Min(1, factor + options.IncreaseStep);

    /// <summary><paramref name="limit"/> scaled by <paramref name="factor"/>, at least 1.</summary>
    public static long Scale(long limit, double factor) => Math.Max(1, (long)Math.Floor((limit * factor) + Tolerance));

    /// <summary>
    /// <paramref name="definition"/> with its effective limit (and burst), adjusting the factor first when an interval has
    /// passed; the definition itself when it is not adaptive.
    /// </summary>
    public RateLimitPolicy Apply(string policy, RateLimitPolicy definition)
    {
        if (!definition.Adaptive)
        {
            return definition;
        }

        var capacity = RateLimitPolicyRules.Capacity(definition);
        if (!_configuredLimits.TryGetValue(policy, out var known) || known != capacity)
        {
            _configuredLimits[policy] = capacity;
        }

        var factor = AdjustedFactor();
        return factor >= 1 ? definition : definition with
        {
            Limit = Scale(definition.Limit, factor),
            Burst = definition.Burst is { } burst ? Scale(burst, factor) : null,
        };
    }

    private double AdjustedFactor()
    {
        var now = _timeProvider.GetTimestamp();
        lock (_gate)
        {
            if (now >= _nextAdjustment)
            {
                _factor = Next(_factor, IsStressed(_signal.TakeSample(), _options), _options);
                _nextAdjustment = now + IntervalTicks;
            }

            return _factor;
        }
    }

    private IEnumerable<Measurement<long>> ObserveLimits()
    {
        var factor = Factor;
        foreach (var (policy, limit) in _configuredLimits)
        {
            yield return new Measurement<long>(Scale(limit, factor), new KeyValuePair<string, object?>("coordination.ratelimit.policy", policy));
        }
    }
}
