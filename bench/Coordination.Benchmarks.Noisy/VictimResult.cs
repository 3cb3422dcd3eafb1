using System.Diagnostics;

namespace Coordination.Benchmarks.Noisy;

/// <summary>
/// Tenant B's operations in one phase: each one's latency from its intended start (so a stall that delays later
/// sends counts against them: no coordinated omission), and the ones that failed.
/// </summary>
internal sealed class VictimResult(TimeSpan duration)
{
    private readonly Lock _gate = new();
    private readonly List<long> _ticks = [];
    private readonly Dictionary<string, List<long>> _ticksByOperation = new(StringComparer.Ordinal);
    private long[]? _sorted;

    public TimeSpan Duration { get; } = duration;

    public Outcomes Errors { get; } = new();

    /// <summary>Operations that were due in the phase (the schedule's length), whatever became of them.</summary>
    public int Scheduled { get; set; }

    public int Completed
    {
        get
        {
            lock (_gate)
            {
                return _ticks.Count;
            }
        }
    }

    public long ErrorCount => Errors.Total;

    public void Add(string operation, long ticks)
    {
        lock (_gate)
        {
            _ticks.Add(ticks);
            _sorted = null;
            if (!_ticksByOperation.TryGetValue(operation, out var ofOperation))
            {
                _ticksByOperation[operation] = ofOperation = [];
            }

            ofOperation.Add(ticks);
        }
    }

    /// <summary>The latency of one kind of operation at quantile <paramref name="q"/> in milliseconds; NaN when none completed.</summary>
    public double Percentile(string operation, double q)
    {
        lock (_gate)
        {
            if (!_ticksByOperation.TryGetValue(operation, out var ofOperation) || ofOperation.Count == 0)
            {
                return double.NaN;
            }

            long[] sorted = [.. ofOperation.Order()];
            return ToMilliseconds(sorted[(int)Math.Round(q * (sorted.Length - 1))]);
        }
    }

    /// <summary>The latency at quantile <paramref name="q"/> (nearest rank) in milliseconds; NaN when nothing completed.</summary>
    public double Percentile(double q)
    {
        lock (_gate)
        {
            var sorted = _sorted ??= [.. _ticks.Order()];
            return sorted.Length == 0 ? double.NaN : ToMilliseconds(sorted[(int)Math.Round(q * (sorted.Length - 1))]);
        }
    }

    public double Max
    {
        get
        {
            lock (_gate)
            {
                return _ticks.Count == 0 ? double.NaN : ToMilliseconds(_ticks.Max());
            }
        }
    }

    private static double ToMilliseconds(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
