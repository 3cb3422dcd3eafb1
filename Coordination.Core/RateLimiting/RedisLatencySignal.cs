using System.Diagnostics;

namespace Coordination;

/// <summary>
/// The health signal from the rate-limit scripts' own round trips (through the executor, so as callers see Redis):
/// counts of calls, of calls slower than <see cref="RateLimitAdaptiveOptions.LatencyThreshold"/> and of failed calls.
/// Counting the slow calls is the exact form of a percentile test: the 99th percentile is over the threshold exactly
/// when more than 1 % of the calls are. Lock-free: two or three interlocked increments per call.
/// </summary>
internal sealed class RedisLatencySignal(RateLimitAdaptiveOptions options) : IRateLimitHealthSignal
{
    private readonly long _thresholdTicks = (long)(options.LatencyThreshold.TotalSeconds * Stopwatch.Frequency);
    private long _calls;
    private long _slow;
    private long _failed;

    /// <summary>Counts one call that started at <paramref name="startTimestamp"/> (<see cref="Stopwatch.GetTimestamp"/>).</summary>
    public void Record(long startTimestamp, bool failed)
    {
        Interlocked.Increment(ref _calls);
        if (Stopwatch.GetTimestamp() - startTimestamp > _thresholdTicks)
        {
            Interlocked.Increment(ref _slow);
        }

        if (failed)
        {
            Interlocked.Increment(ref _failed);
        }
    }

    public RateLimitHealthSample TakeSample() =>
        new(Interlocked.Exchange(ref _calls, 0), Interlocked.Exchange(ref _slow, 0), Interlocked.Exchange(ref _failed, 0));
}
