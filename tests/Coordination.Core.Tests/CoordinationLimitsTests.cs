namespace Coordination.Core.Tests;

public class CoordinationLimitsTests
{
    public static TheoryData<TimeSpan> Outside => [TimeSpan.Zero, TimeSpan.FromTicks(9_999), TimeSpan.FromMilliseconds(-1), TimeSpan.FromDays(30) + TimeSpan.FromTicks(1), TimeSpan.MaxValue];

    [Theory]
    [MemberData(nameof(Outside))]
    public void Validate_OutsideOneMillisecondToThirtyDays_ThrowsNamingTheParameter(TimeSpan ttl)
    {
        Assert.False(CoordinationLimits.IsValidTimeToLive(ttl));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => CoordinationLimits.ValidateTimeToLive(ttl, "ttl"));

        Assert.Equal("ttl", ex.ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => CoordinationLimits.ValidateTimeToLive((TimeSpan?)ttl, "ttl"));
    }

    [Fact]
    public void Validate_BoundsAndNull_Accepted()
    {
        CoordinationLimits.ValidateTimeToLive(TimeSpan.FromMilliseconds(1), "ttl");
        CoordinationLimits.ValidateTimeToLive(TimeSpan.FromDays(30), "ttl");
        CoordinationLimits.ValidateTimeToLive(null, "ttl");
        Assert.Equal((TimeSpan.FromMilliseconds(1), TimeSpan.FromDays(30)), (CoordinationLimits.MinTimeToLive, CoordinationLimits.MaxTimeToLive));
    }

    [Fact]
    public void EveryCapability_RefusesTheSameOutOfRangeTimeToLive()
    {
        var tooLong = TimeSpan.FromDays(31);

        Assert.Throws<ArgumentOutOfRangeException>(() => LockRules.Resolve(new LockOptions { TimeToLive = tooLong }, new LockManagerOptions(), TimeSpan.Zero));
        Assert.Throws<ArgumentOutOfRangeException>(() => CacheEntrySettings.Resolve(new CacheEntryOptions { TimeToLive = tooLong }, new CacheOptions()));
    }

    [Theory]
    [InlineData("", "The key must not be empty.")]
    [InlineData(null, "The key must not be empty.")]
    [InlineData("a\tb", "The key must not contain control characters.")]
    public void FindNameProblem_InvalidName_SaysWhatIsWrong(string? name, string problem) =>
        Assert.Equal(problem, CoordinationLimits.FindNameProblem(name, "key"));

    [Fact]
    public void FindNameProblem_UnpairedSurrogate_SaysWhatIsWrong() =>
        Assert.Equal("The key must be valid UTF-8 text (no unpaired surrogates).", CoordinationLimits.FindNameProblem("a" + (char)0xD800, "key"));

    [Fact]
    public void FindNameProblem_LengthCountsUtf8Bytes()
    {
        Assert.Null(CoordinationLimits.FindNameProblem(new string('\u00e9', 256)));
        Assert.Equal("The name must be at most 512 UTF-8 bytes; it is 514.", CoordinationLimits.FindNameProblem(new string('\u00e9', 257)));
    }

    [Theory]
    [InlineData("acme", true)]
    [InlineData("a.b_c-D9", true)]
    [InlineData("", false)]
    [InlineData(null, false)]
    [InlineData("a:b", false)]
    [InlineData("caf\u00e9", false)]
    public void IsValidSegment_AgreesWithThePattern(string? segment, bool valid)
    {
        Assert.Equal(valid, CoordinationLimits.IsValidSegment(segment));
        Assert.Equal(valid, segment is not null && System.Text.RegularExpressions.Regex.IsMatch(segment, CoordinationLimits.SegmentPattern));
    }

    [Fact]
    public void IsValidSegment_SixtyFiveCharacters_Refused()
    {
        Assert.True(CoordinationLimits.IsValidSegment(new string('a', 64)));
        Assert.False(CoordinationLimits.IsValidSegment(new string('a', 65)));
    }
}
