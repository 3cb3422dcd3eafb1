namespace Coordination.Core.Tests.Sessions;

public class SessionManagerOptionsRulesTests
{
    [Fact]
    public void Validate_Defaults_Succeed() =>
        Assert.True(new SessionManagerOptionsRules().Validate(null, new CoordinationOptions()).Succeeded);

    [Fact]
    public void Validate_IdleEqualToAbsolute_Succeeds()
    {
        var options = new CoordinationOptions();
        options.Sessions.DefaultIdleTimeout = TimeSpan.FromHours(1);
        options.Sessions.DefaultAbsoluteTimeout = TimeSpan.FromHours(1);

        Assert.True(new SessionManagerOptionsRules().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_IdleAboveAbsolute_FailsNamingBoth()
    {
        var options = new CoordinationOptions();
        options.Sessions.DefaultIdleTimeout = TimeSpan.FromHours(2);
        options.Sessions.DefaultAbsoluteTimeout = TimeSpan.FromHours(1);

        var result = new SessionManagerOptionsRules().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Coordination:Sessions:DefaultIdleTimeout", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Coordination:Sessions:DefaultAbsoluteTimeout", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DefaultIdleTimeout", "00:00:00")]
    [InlineData("DefaultAbsoluteTimeout", "31.00:00:00")]
    [InlineData("MaxSessionsPerUser", "0")]
    [InlineData("MaxDataBytes", "0")]
    [InlineData("MaxFields", "100001")]
    public void Validator_OutOfRangeAnnotation_FailsNamingTheOption(string option, string value)
    {
        var options = new CoordinationOptions();
        var property = typeof(SessionManagerOptions).GetProperty(option)!;
        property.SetValue(options.Sessions, property.PropertyType == typeof(TimeSpan) ? TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : int.Parse(value, System.Globalization.CultureInfo.InvariantCulture));

        var result = new CoordinationOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(option, result.FailureMessage, StringComparison.Ordinal);
    }
}
