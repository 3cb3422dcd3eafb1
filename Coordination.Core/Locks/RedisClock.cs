namespace Coordination;

/// <summary>
/// Redis's clock as this process last read it, carried forward by the local monotonic clock. It only has to be
/// right to within minutes: lock_fast_acquire.lua answers with the low <see cref="LowBits"/> bits of the new hold's
/// expiry time (a reply of one integer costs Redis and the client less than an array), and
/// <see cref="CompleteTime"/> picks the one time with those bits nearest to the estimate. Every completed
/// time is itself a reading of Redis's clock, so under traffic the estimate stays within a round trip; after
/// <see cref="MaxAge"/> without one, the next fast acquisition asks Redis for the whole time again. One per host, shared
/// by the locks and the cache (which judges its entries' freshness in Redis time).
/// </summary>
internal sealed class RedisClock(TimeProvider time)
{
    /// <summary>How many low bits of a time (ms) lock_fast_acquire.lua sends: 2^21 ms is about 35 minutes.</summary>
    public const int LowBits = 21;

    /// <summary>How old a reading may be and still be used.</summary>
    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How far a completed time may be from the estimate before the reading is no longer trusted: far below half the
    /// window (17 minutes), far above a round trip plus a minute of clock drift. Beyond it the readings come from a
    /// server whose clock differs (another cluster node, a clock step), so the next acquisition reads it again.
    /// </summary>
    public const long TrustedDeviationMilliseconds = 60_000;

    private const long Window = 1L << LowBits;
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(1);

    private Reading? _reading;

    /// <summary>The reading to estimate Redis's time at <paramref name="timestamp"/> with, or <see langword="null"/> when none is recent enough.</summary>
    public Reading? Current(long timestamp) =>
        Volatile.Read(ref _reading) is { } reading && time.GetElapsedTime(reading.Timestamp, timestamp) < MaxAge ? reading : null;

    /// <summary>Notes that Redis's clock read <paramref name="redisMilliseconds"/> (Unix ms) at <paramref name="timestamp"/> (monotonic).</summary>
    public void Observe(long redisMilliseconds, long timestamp)
    {
        // Readings are replaced at most once a second: one allocation per second, not one per acquisition.
        if (Volatile.Read(ref _reading) is not { } reading || time.GetElapsedTime(reading.Timestamp, timestamp) >= RefreshInterval)
        {
            Volatile.Write(ref _reading, new Reading(redisMilliseconds, timestamp));
        }
    }

    /// <summary>Notes that Redis's clock reads <paramref name="redisMilliseconds"/> (Unix ms) now.</summary>
    public void Observe(long redisMilliseconds) => Observe(redisMilliseconds, time.GetTimestamp());

    /// <summary>
    /// Redis's time now (Unix ms): the last reading carried forward, however old (the local clock's drift is small
    /// against the cache's TTLs); the local clock until a first reading.
    /// </summary>
    public long EstimateNow()
    {
        if (Volatile.Read(ref _reading) is not { } reading)
        {
            return time.GetUtcNow().ToUnixTimeMilliseconds();
        }

        return reading.RedisMilliseconds + (long)time.GetElapsedTime(reading.Timestamp).TotalMilliseconds;
    }

    /// <summary>
    /// The Redis time (Unix ms) whose low <see cref="LowBits"/> bits are <paramref name="lowBits"/> nearest to Redis's
    /// time at <paramref name="timestamp"/> plus <paramref name="offsetMilliseconds"/>, estimated from
    /// <paramref name="reading"/>. Exact while Redis's clock is within about 17 minutes of that reading carried forward.
    /// </summary>
    public long CompleteTime(Reading reading, long lowBits, long timestamp, long offsetMilliseconds)
    {
        var estimate = reading.RedisMilliseconds + (long)time.GetElapsedTime(reading.Timestamp, timestamp).TotalMilliseconds + offsetMilliseconds;
        var completed = estimate - ((estimate - lowBits) & (Window - 1));
        if (estimate - completed > Window / 2)
        {
            completed += Window;
        }

        if (Math.Abs(completed - estimate) > TrustedDeviationMilliseconds)
        {
            Interlocked.CompareExchange(ref _reading, null, reading);
        }
        else
        {
            Observe(completed - offsetMilliseconds, timestamp);
        }

        return completed;
    }

    /// <summary>One reading of Redis's clock: its time (Unix ms) and the local monotonic timestamp it was taken at.</summary>
    internal sealed record Reading(long RedisMilliseconds, long Timestamp);
}
