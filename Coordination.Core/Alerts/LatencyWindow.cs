namespace Coordination;

/// <summary>
/// A sliding window of this node's Redis round trips, for the p99 of <see cref="AlertRules.RedisLatency"/>. Recording
/// is lock-free (a ring of <see cref="Capacity"/> slots, the oldest overwritten), because it runs on the path of every
/// Redis operation; a sample torn by a concurrent overwrite costs at most one slightly wrong sample.
/// </summary>
internal sealed class LatencyWindow
{
    public const int Capacity = 4096;

    private readonly long[] _timestamps = new long[Capacity];
    private readonly double[] _seconds = new double[Capacity];
    private long _next = -1;

    /// <summary>Records a round trip of <paramref name="seconds"/> that ended at <paramref name="timestamp"/> (<see cref="TimeProvider.GetTimestamp"/>).</summary>
    public void Record(long timestamp, double seconds)
    {
        var slot = (int)(Interlocked.Increment(ref _next) & (Capacity - 1));
        _seconds[slot] = seconds;
        Volatile.Write(ref _timestamps[slot], timestamp);
    }

    /// <summary>The p99 of the samples recorded after <paramref name="since"/>, and how many there were.</summary>
    public (double? Seconds, int Samples) Percentile99(long since)
    {
        var values = new List<double>(Capacity);
        for (var i = 0; i < Capacity; i++)
        {
            var timestamp = Volatile.Read(ref _timestamps[i]);
            if (timestamp != 0 && timestamp > since)
            {
                values.Add(_seconds[i]);
            }
        }

        if (values.Count == 0)
        {
            return (null, 0);
        }

        values.Sort();
        // Nearest rank: the smallest value at or above 99 % of the samples.
        var rank = (int)Math.Ceiling(0.99 * values.Count) - 1;
        return (values[Math.Clamp(rank, 0, values.Count - 1)], values.Count);
    }
}
