using StackExchange.Redis;

namespace Coordination.Core.Tests.Locks;

/// <summary>
/// Completing the expiry times lock_fast_acquire.lua sends as low bits, from an estimate of Redis's clock carried
/// forward by the local monotonic clock (here a stepped one, in ms).
/// </summary>
public class RedisClockTests
{
    private const long Window = 1L << RedisClock.LowBits;
    private const long Ttl = 30_000;

    // Just below a window boundary, so estimates on either side of it are covered.
    private const long RedisNow = 1_795_668_000_000 - (1_795_668_000_000 % Window) + Window - 5_000;

    [Fact]
    public void Current_OnlyWhileTheReadingIsRecent()
    {
        var time = new SteppedTime();
        var clock = new RedisClock(time);
        Assert.Null(clock.Current(time.GetTimestamp()));

        clock.Observe(RedisNow, time.GetTimestamp());
        Assert.NotNull(clock.Current(time.GetTimestamp()));

        time.Now += (long)RedisClock.MaxAge.TotalMilliseconds - 1;
        Assert.NotNull(clock.Current(time.GetTimestamp()));
        time.Now += 1;
        Assert.Null(clock.Current(time.GetTimestamp()));
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(2, 0)]
    [InlineData(40, 0)]
    [InlineData(0, 59_000)]
    [InlineData(0, -59_000)]
    [InlineData(7_000, 59_000)]
    [InlineData(7_000, -59_000)]
    public void CompleteTime_WithinTheTrustedDeviation_ExactAndStillTrusted(long elapsedMilliseconds, long redisAhead)
    {
        var time = new SteppedTime();
        var clock = new RedisClock(time);
        clock.Observe(RedisNow, time.GetTimestamp());
        var reading = clock.Current(time.GetTimestamp())!;

        time.Now += elapsedMilliseconds;
        var expiresAt = RedisNow + elapsedMilliseconds + redisAhead + Ttl;
        Assert.Equal(expiresAt, clock.CompleteTime(reading, expiresAt & (Window - 1), time.GetTimestamp(), Ttl));

        // The completed time is a reading of its own: the next estimate starts from it.
        var next = clock.Current(time.GetTimestamp());
        Assert.NotNull(next);
        Assert.Equal(elapsedMilliseconds >= 1_000 ? expiresAt - Ttl : RedisNow, next.RedisMilliseconds);
    }

    [Theory]
    [InlineData(61_000)]
    [InlineData(-61_000)]
    [InlineData(17 * 60_000)]
    [InlineData(-17 * 60_000)]
    public void CompleteTime_FarFromTheEstimate_StillExactWithinHalfTheWindow_ButTheReadingIsDropped(long redisAhead)
    {
        var time = new SteppedTime();
        var clock = new RedisClock(time);
        clock.Observe(RedisNow, time.GetTimestamp());
        var reading = clock.Current(time.GetTimestamp())!;

        var expiresAt = RedisNow + redisAhead + Ttl;
        Assert.Equal(expiresAt, clock.CompleteTime(reading, expiresAt & (Window - 1), time.GetTimestamp(), Ttl));
        Assert.Null(clock.Current(time.GetTimestamp()));
    }

    [Fact]
    public void CompleteTime_ClockOffByMoreThanHalfTheWindow_ReadingDropped()
    {
        // 20 minutes off reads as 15 minutes the other way (the documented limit), which is far enough to distrust.
        var time = new SteppedTime();
        var clock = new RedisClock(time);
        clock.Observe(RedisNow, time.GetTimestamp());
        var reading = clock.Current(time.GetTimestamp())!;

        var expiresAt = RedisNow + (20 * 60_000) + Ttl;
        Assert.Equal(expiresAt - Window, clock.CompleteTime(reading, expiresAt & (Window - 1), time.GetTimestamp(), Ttl));
        Assert.Null(clock.Current(time.GetTimestamp()));
    }

    [Fact]
    public void ParseFast_EachAnswer()
    {
        var time = new SteppedTime();
        var clock = new RedisClock(time);
        var expiresAt = RedisNow + Ttl;

        // Asked whole (no reading yet): the array, which also sets the clock.
        var whole = AcquireOutcome.ParseFast(RedisResult.Create([RedisResult.Create(7), RedisResult.Create(expiresAt)]), "tok", "tok|o", Ttl, clock, null, time.GetTimestamp(), 0);
        Assert.Equal((AcquireStatus.Acquired, "tok", 7L, expiresAt, "tok|o", false), (whole.Status, whole.Token, whole.FencingToken, whole.ExpiresAtMilliseconds, whole.FastHold, whole.CreatedCounter));
        var reading = clock.Current(time.GetTimestamp());
        Assert.NotNull(reading);
        Assert.Equal(RedisNow, reading.RedisMilliseconds);

        // Packed: token above the low bits, completed from the reading.
        time.Now += 2_000;
        var packed = (8L << RedisClock.LowBits) + ((expiresAt + 2_003) & (Window - 1));
        var completed = AcquireOutcome.ParseFast(RedisResult.Create(packed), "tok2", "tok2|o", Ttl, clock, reading, time.GetTimestamp(), 0);
        Assert.Equal((AcquireStatus.Acquired, 8L, expiresAt + 2_003), (completed.Status, completed.FencingToken, completed.ExpiresAtMilliseconds));

        Assert.False(completed.CreatedCounter);

        // The acquisition that created the counter: the array with a third element, whatever was asked.
        var created = AcquireOutcome.ParseFast(
            RedisResult.Create([RedisResult.Create(1_795_668_000), RedisResult.Create(expiresAt + 2_003), RedisResult.Create(1)]), "tok4", "tok4|o", Ttl, clock, reading, time.GetTimestamp(), 0);
        Assert.Equal((AcquireStatus.Acquired, 1_795_668_000L, expiresAt + 2_003, "tok4|o", true), (created.Status, created.FencingToken, created.ExpiresAtMilliseconds, created.FastHold, created.CreatedCounter));

        var refused = AcquireOutcome.ParseFast(RedisResult.Create(0), "tok3", "tok3|o", Ttl, clock, reading, time.GetTimestamp(), 0);
        Assert.Equal((AcquireStatus.Refused, null), (refused.Status, refused.FastHold));
        Assert.Throws<InvalidOperationException>(() => AcquireOutcome.ParseFast(RedisResult.Create(packed), "t", "t|o", Ttl, clock, null, time.GetTimestamp(), 0));
    }

    [Fact]
    public void ParseFast_FencingEpochs()
    {
        var time = new SteppedTime();
        var clock = new RedisClock(time);
        var expiresAt = RedisNow + Ttl;
        const long Base = 3L << FencingEpochs.EpochShift;
        clock.Observe(RedisNow, time.GetTimestamp());
        var reading = clock.Current(time.GetTimestamp());

        // Packed: the count within the epoch the call passed, which the client adds back.
        var packed = (8L << RedisClock.LowBits) + (expiresAt & (Window - 1));
        var completed = AcquireOutcome.ParseFast(RedisResult.Create(packed), "tok", "tok|o", Ttl, clock, reading, time.GetTimestamp(), Base);
        Assert.Equal(Base + 8, completed.FencingToken);

        // At 2^53 and above the script sends the token as a string (Lua's doubles are not exact there).
        const long Huge = (1L << 53) + 3;
        var exact = AcquireOutcome.ParseFast(
            RedisResult.Create([RedisResult.Create((RedisValue)"9007199254740995"), RedisResult.Create(expiresAt)]), "tok", "tok|o", Ttl, clock, reading, time.GetTimestamp(), Base);
        Assert.Equal(Huge, exact.FencingToken);

        // A server life whose epoch the node lacks: nothing taken, its run id answered.
        var unverified = AcquireOutcome.ParseFast(
            RedisResult.Create([RedisResult.Create(-1), RedisResult.Create((RedisValue)"abc123")]), "tok", "tok|o", Ttl, clock, reading, time.GetTimestamp(), Base);
        Assert.Equal((AcquireStatus.Unverified, "abc123"), (unverified.Status, unverified.RunId));
    }

    private sealed class SteppedTime : TimeProvider
    {
        public long Now { get; set; } = 1_000_000;

        public override long TimestampFrequency => 1_000;

        public override long GetTimestamp() => Now;
    }
}
