namespace Coordination.Core.Tests.Nodes;

public sealed class NodeReportOptionsRulesTests
{
    [Theory]
    [InlineData("00:00:05", 3, "00:00:15")]
    [InlineData("00:00:05", 3, "00:00:10")]
    [InlineData("00:00:01", 10, "00:00:05")]
    public void Validate_ExpiryNotAfterTheStaleThreshold_FailsNamingTheSettings(string interval, int staleAfter, string expiry)
    {
        var options = new NodeReportOptions { Interval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture), StaleAfterIntervals = staleAfter, Expiry = TimeSpan.Parse(expiry, System.Globalization.CultureInfo.InvariantCulture) };

        var result = new NodeReportOptionsRules().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Coordination:Nodes:Expiry", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Coordination:Nodes:Interval", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_Defaults_Succeed()
    {
        var options = new NodeReportOptions();

        Assert.True(new NodeReportOptionsRules().Validate(null, options).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Interval);
        Assert.Equal(3, options.StaleAfterIntervals);
        Assert.Equal(TimeSpan.FromMinutes(1), options.Expiry);
        Assert.Equal(64, options.MaxNodes);
        Assert.Equal("service", options.Role);
    }
}
