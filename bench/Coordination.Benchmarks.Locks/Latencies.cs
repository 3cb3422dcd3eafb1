using System.Diagnostics;

namespace Coordination.Benchmarks.Locks;

/// <summary>Durations in Stopwatch ticks, summarized as percentiles in microseconds.</summary>
internal sealed class Latencies
{
    private readonly List<long> _ticks = [];
    private long[]? _sorted;

    public int Count => _ticks.Count;

    public void Add(long ticks)
    {
        _ticks.Add(ticks);
        _sorted = null;
    }

    public void AddRange(IEnumerable<long> ticks)
    {
        _ticks.AddRange(ticks);
        _sorted = null;
    }

    /// <summary>The value at quantile <paramref name="q"/> (nearest rank) in microseconds; NaN when empty.</summary>
    public double Percentile(double q)
    {
        var sorted = _sorted ??= [.. _ticks.Order()];
        return sorted.Length == 0 ? double.NaN : ToMicroseconds(sorted[(int)Math.Round(q * (sorted.Length - 1))]);
    }

    public double Max => _ticks.Count == 0 ? double.NaN : ToMicroseconds(_ticks.Max());

    public double Mean => _ticks.Count == 0 ? double.NaN : ToMicroseconds((long)_ticks.Average());

    public static double ToMicroseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}
