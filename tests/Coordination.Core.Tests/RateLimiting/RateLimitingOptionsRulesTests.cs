using System.ComponentModel.DataAnnotations;

namespace Coordination.Core.Tests.RateLimiting;

public class RateLimitingOptionsRulesTests
{
    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var options = new CoordinationOptions();

        Assert.True(new RateLimitingOptionsRules().Validate(null, options).Succeeded);
        Assert.True(new CoordinationOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_ValidPolicies_Succeed()
    {
        var options = new CoordinationOptions();
        options.RateLimiting.Policies["api"] = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 100, Period = TimeSpan.FromSeconds(1), Burst = 500 };
        options.RateLimiting.Policies["login.v2_x-y"] = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 5, Period = TimeSpan.FromMinutes(1) };

        Assert.True(new RateLimitingOptionsRules().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_BadPolicies_FailNamingEachSetting()
    {
        var options = new CoordinationOptions();
        options.RateLimiting.Policies["api"] = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 0, Period = TimeSpan.FromSeconds(1) };
        options.RateLimiting.Policies["log"] = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.SlidingLog, Limit = 50_000, Period = TimeSpan.FromSeconds(1) };
        options.RateLimiting.Policies["bad name"] = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 1, Period = TimeSpan.FromSeconds(1) };

        var result = new RateLimitingOptionsRules().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Equal(3, result.Failures!.Count());
        Assert.Contains("Coordination:RateLimiting:Policies:api: The limit must be at least 1", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Coordination:RateLimiting:Policies:log: A sliding log", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Coordination:RateLimiting:Policies:bad name: a policy name", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("PolicyRefreshInterval")]
    [InlineData("MaxPolicies")]
    [InlineData("MaxOverridesPerPolicy")]
    public void Validate_BoundsOutOfRange_FailNamingThem(string setting)
    {
        var options = new CoordinationOptions();
        switch (setting)
        {
            case "PolicyRefreshInterval":
                options.RateLimiting.PolicyRefreshInterval = TimeSpan.FromHours(1);
                break;
            case "MaxPolicies":
                options.RateLimiting.MaxPolicies = 0;
                break;
            default:
                options.RateLimiting.MaxOverridesPerPolicy = -1;
                break;
        }

        var result = new CoordinationOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(setting, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes()
    {
        var options = new RateLimitingOptions();

        Assert.Equal(TimeSpan.FromSeconds(1), options.PolicyRefreshInterval);
        Assert.Equal(1_000, options.MaxPolicies);
        Assert.Equal(10_000, options.MaxOverridesPerPolicy);
        Assert.Empty(options.Policies);
        Assert.NotNull(typeof(RateLimitingOptions).GetProperty(nameof(RateLimitingOptions.MaxPolicies))!.GetCustomAttributes(typeof(RangeAttribute), false).SingleOrDefault());
    }
}
