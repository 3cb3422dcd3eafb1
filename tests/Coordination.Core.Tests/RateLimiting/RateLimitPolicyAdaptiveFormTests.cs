namespace Coordination.Core.Tests.RateLimiting;

public class RateLimitPolicyAdaptiveFormTests
{
    [Fact]
    public void Serialize_AdaptivePolicy_IsMarkedAndParsesBack_OthersKeepTheirForm()
    {
        var policy = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 100, Period = TimeSpan.FromSeconds(1), Burst = 400, Adaptive = true };

        var stored = RateLimitPolicyRules.Serialize(policy);

        Assert.Null(RateLimitPolicyRules.FindProblem(policy));
        Assert.Equal("v1|TokenBucket|100|1000|400|adaptive", stored);
        Assert.Equal(policy, RateLimitPolicyRules.Parse(stored));
        Assert.Equal("v1|TokenBucket|100|1000|400", RateLimitPolicyRules.Serialize(policy with { Adaptive = false }));
        Assert.Null(RateLimitPolicyRules.Parse("v1|TokenBucket|100|1000|400|other"));
    }

    [Fact]
    public void Validate_FallbackAndAdaptiveBounds_FailNamingThem()
    {
        var options = new CoordinationOptions();
        options.RateLimiting.Fallback.NodeCount = 0;
        options.RateLimiting.Fallback.MaxLimiters = 0;
        options.RateLimiting.Adaptive.DecreaseFactor = 1;
        options.RateLimiting.Adaptive.Floor = 0;
        options.RateLimiting.Adaptive.Interval = TimeSpan.Zero;

        var result = new CoordinationOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        foreach (var setting in new[] { "NodeCount", "MaxLimiters", "DecreaseFactor", "Floor", "Interval" })
        {
            Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
        }
    }
}
