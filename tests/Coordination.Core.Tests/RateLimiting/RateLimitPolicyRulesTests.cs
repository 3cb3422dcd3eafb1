namespace Coordination.Core.Tests.RateLimiting;

public class RateLimitPolicyRulesTests
{
    private static readonly RateLimitPolicy Valid = new() { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 100, Period = TimeSpan.FromSeconds(1) };

    [Theory]
    [InlineData(10, 0.2, 2)]
    [InlineData(10, 0.7, 7)] // 10 * 0.7 is 7.000000000000001 in doubles: counted in decimal, not rounded up to 8.
    [InlineData(10, 0.11, 2)]
    [InlineData(10, 0.9, 9)]
    [InlineData(10, 0, 0)]
    [InlineData(2, 0.9, 1)] // At most limit - 1: normal traffic always has one.
    [InlineData(1, 0.5, 0)]
    public void Reserve_Normal_IsTheShareRoundedUp_LeavingNormalAtLeastOne(long allowance, double share, long expected)
    {
        Assert.Equal(expected, RateLimitPolicyRules.Reserve(allowance, share, RateLimitPriority.Normal));
        Assert.Equal(0, RateLimitPolicyRules.Reserve(allowance, share, RateLimitPriority.Critical));
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow)]
    [InlineData(RateLimitAlgorithm.SlidingWindow)]
    [InlineData(RateLimitAlgorithm.SlidingLog)]
    [InlineData(RateLimitAlgorithm.TokenBucket)]
    [InlineData(RateLimitAlgorithm.Gcra)]
    [InlineData(RateLimitAlgorithm.Concurrency)]
    public void FindProblem_ValidPolicyOfEveryAlgorithm_IsNull(RateLimitAlgorithm algorithm) =>
        Assert.Null(RateLimitPolicyRules.FindProblem(Valid with { Algorithm = algorithm, Burst = 20 }));

    [Fact]
    public void FindProblem_TheBoundsThemselves_AreValid()
    {
        Assert.Null(RateLimitPolicyRules.FindProblem(Valid with { Period = TimeSpan.FromMilliseconds(1), Limit = 1 }));
        Assert.Null(RateLimitPolicyRules.FindProblem(Valid with { Period = TimeSpan.FromDays(30), Burst = 1 }));
        Assert.Null(RateLimitPolicyRules.FindProblem(Valid with { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 10_000 }));
        Assert.Null(RateLimitPolicyRules.FindProblem(Valid with { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 10_000 }));
        Assert.Null(RateLimitPolicyRules.FindProblem(Valid with { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 1_000_000, Period = TimeSpan.FromDays(1), Burst = 5_000_000 }));
        Assert.Null(RateLimitPolicyRules.FindProblem(Valid with { Limit = RateLimitPolicyRules.MaxExactProduct, Period = TimeSpan.FromDays(30) }));
    }

    [Fact]
    public void FindProblem_Null_IsAProblem() => Assert.NotNull(RateLimitPolicyRules.FindProblem(null));

    public static readonly TheoryData<RateLimitPolicy, string> Invalid = new()
    {
        { Valid with { Limit = 0 }, "limit must be at least 1" },
        { Valid with { Limit = -5 }, "limit must be at least 1" },
        { Valid with { Period = TimeSpan.Zero }, "period must be 1 ms to 30 days" },
        { Valid with { Period = TimeSpan.FromMilliseconds(-1) }, "period must be 1 ms to 30 days" },
        { Valid with { Period = TimeSpan.FromDays(30) + TimeSpan.FromMilliseconds(1) }, "period must be 1 ms to 30 days" },
        { Valid with { Period = TimeSpan.FromTicks(TimeSpan.TicksPerMillisecond + 1) }, "whole number of milliseconds" },
        { Valid with { Burst = 0 }, "burst must be at least 1" },
        { Valid with { Algorithm = (RateLimitAlgorithm)99 }, "algorithm 99" },
        { Valid with { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 10_001 }, "sliding log" },
        { Valid with { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 10_001 }, "concurrency" },
        { Valid with { Algorithm = RateLimitAlgorithm.SlidingWindow, Limit = 1_000_000_000, Period = TimeSpan.FromDays(1) }, "exactly" },
        { Valid with { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 10, Burst = 1_000_000_000_000, Period = TimeSpan.FromDays(1) }, "exactly" },
        { Valid with { Algorithm = RateLimitAlgorithm.Gcra, Limit = 1_000_000_000_000, Period = TimeSpan.FromDays(1) }, "exactly" },
        { Valid with { Limit = RateLimitPolicyRules.MaxExactProduct + 1 }, "at most" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void FindProblem_Invalid_SaysWhat(RateLimitPolicy policy, string expected)
    {
        Assert.Contains(expected, RateLimitPolicyRules.FindProblem(policy), StringComparison.OrdinalIgnoreCase);
        var error = Assert.Throws<ArgumentException>(() => RateLimitPolicyRules.Validate(policy, "definition"));
        Assert.Equal("definition", error.ParamName);
    }

    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow, 1L, 1L, null)]
    [InlineData(RateLimitAlgorithm.TokenBucket, 500L, 86_400_000L, 2_000L)]
    [InlineData(RateLimitAlgorithm.Gcra, 10L, 1_000L, 1L)]
    [InlineData(RateLimitAlgorithm.Concurrency, 10_000L, 2_592_000_000L, null)]
    public void SerializeThenParse_RoundTrips(RateLimitAlgorithm algorithm, long limit, long periodMs, long? burst)
    {
        var policy = new RateLimitPolicy { Algorithm = algorithm, Limit = limit, Period = TimeSpan.FromMilliseconds(periodMs), Burst = burst };

        var stored = RateLimitPolicyRules.Serialize(policy);

        Assert.StartsWith("v1|", stored, StringComparison.Ordinal);
        Assert.Equal(policy, RateLimitPolicyRules.Parse(stored));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("v2|FixedWindow|1|1|")]
    [InlineData("v1|FixedWindow|1|1")]
    [InlineData("v1|Nope|1|1|")]
    [InlineData("v1|FixedWindow|x|1|")]
    [InlineData("v1|FixedWindow|-1|1|")]
    [InlineData("v1|FixedWindow|1|x|")]
    [InlineData("v1|FixedWindow|1|99999999999999|")]
    [InlineData("v1|FixedWindow|1|1|x")]
    [InlineData("v1|FixedWindow|0|1|")]
    [InlineData("v1|FixedWindow|1|0|")]
    [InlineData("v1|SlidingLog|20000|1000|")]
    public void Parse_NotAValidStoredPolicy_IsNull(string? stored) => Assert.Null(RateLimitPolicyRules.Parse(stored));

    [Fact]
    public void Capacity_IsTheBurstElseTheLimit()
    {
        Assert.Equal(100, RateLimitPolicyRules.Capacity(Valid));
        Assert.Equal(7, RateLimitPolicyRules.Capacity(Valid with { Burst = 7 }));
    }
}
