namespace Coordination.Core.Tests.Caching;

public class CacheOptionsRulesTests
{
    [Fact]
    public void Validate_Defaults_Succeed() =>
        Assert.True(new CacheOptionsRules().Validate(null, new CoordinationOptions()).Succeeded);

    [Fact]
    public void Validate_MoreTagsPerInvalidationThanStampsPerTenant_FailsNamingBoth()
    {
        var options = new CoordinationOptions();
        options.Cache.MaxStampsPerTenant = 10;
        options.Cache.MaxTagsPerInvalidation = 11;

        var result = new CacheOptionsRules().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("MaxTagsPerInvalidation", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("MaxStampsPerTenant", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SoftTimeoutAboveHard_Fails()
    {
        var options = new CoordinationOptions();
        options.Cache.FactorySoftTimeout = TimeSpan.FromSeconds(2);
        options.Cache.FactoryHardTimeout = TimeSpan.FromSeconds(1);

        Assert.True(new CacheOptionsRules().Validate(null, options).Failed);
    }
}
