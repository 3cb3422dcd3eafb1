namespace Coordination.Core.Tests.Internal;

public class TimeToLiveTests
{
    public static TheoryData<TimeSpan> Outside => [TimeSpan.Zero, TimeSpan.FromTicks(9_999), TimeSpan.FromMilliseconds(-1), TimeSpan.FromDays(30) + TimeSpan.FromTicks(1), TimeSpan.MaxValue];

    [Theory]
    [MemberData(nameof(Outside))]
    public void Validate_OutsideOneMillisecondToThirtyDays_ThrowsNamingTheParameter(TimeSpan ttl)
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => TimeToLive.Validate(ttl, "ttl"));

        Assert.Equal("ttl", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => TimeToLive.Validate((TimeSpan?)ttl, "ttl"));
    }

    [Fact]
    public void Validate_BoundsAndNull_Accepted()
    {
        TimeToLive.Validate(TimeSpan.FromMilliseconds(1), "ttl");
        TimeToLive.Validate(TimeSpan.FromDays(30), "ttl");
        TimeToLive.Validate(null, "ttl");
        Assert.Equal((TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(30)), (TimeToLive.Min, TimeToLive.Max));
    }

    [Fact]
    public void EveryCapability_RefusesTheSameOutOfRangeTimeToLive()
    {
        var tooLong = TimeSpan.FromDays(31);

        Assert.Throws<ArgumentOutOfRangeException>(() => LockRules.Resolve(new LockOptions { TimeToLive = tooLong }, new LockManagerOptions(), TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => CacheEntrySettings.Resolve(new CacheEntryOptions { TimeToLive = tooLong }, new CacheOptions()));
    }
}
