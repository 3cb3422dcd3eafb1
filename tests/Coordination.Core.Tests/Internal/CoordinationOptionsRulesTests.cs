using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.Internal;

public class CoordinationOptionsRulesTests
{
    private static CoordinationOptionsRules Rules(string? connectionString = "localhost:6379") => new("redis", () => connectionString);

    [Fact]
    public void Validate_DefaultsWithConnectionString_Succeeds()
    {
        var result = Rules().Validate(Options.DefaultName, new CoordinationOptions());

        Assert.True(result.Succeeded, result.FailureMessage);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void Validate_MissingConnectionString_FailsNamingTheConnectionString(string? connectionString)
    {
        var result = new CoordinationOptionsRules("cache", () => connectionString).Validate(Options.DefaultName, new CoordinationOptions());

        Assert.True(result.Failed);
        Assert.Contains("ConnectionStrings:cache", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_ConnectionString_ReadAtValidationTime()
    {
        string? connectionString = null;
        var rules = new CoordinationOptionsRules("redis", () => connectionString);
        Assert.True(rules.Validate(Options.DefaultName, new CoordinationOptions()).Failed);

        connectionString = "localhost:6379";

        Assert.True(rules.Validate(Options.DefaultName, new CoordinationOptions()).Succeeded);
    }

    [Fact]
    public void Validate_MaxConnectionsBelowMin_FailsNamingBoth()
    {
        var options = new CoordinationOptions();
        options.Pool.MinConnections = 4;
        options.Pool.MaxConnections = 3;

        var result = Rules().Validate(Options.DefaultName, options);

        Assert.True(result.Failed);
        Assert.Contains("Coordination:Pool:MaxConnections (3)", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Coordination:Pool:MinConnections (4)", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MaxConnectionsEqualToMin_Succeeds()
    {
        var options = new CoordinationOptions();
        options.Pool.MinConnections = 3;
        options.Pool.MaxConnections = 3;

        Assert.True(Rules().Validate(Options.DefaultName, options).Succeeded);
    }

    [Fact]
    public void Validate_ReconnectMaxBelowBase_Fails()
    {
        var options = new CoordinationOptions();
        options.Pool.ReconnectBaseDelay = TimeSpan.FromSeconds(2);
        options.Pool.ReconnectMaxDelay = TimeSpan.FromSeconds(1);

        var result = Rules().Validate(Options.DefaultName, options);

        Assert.True(result.Failed);
        Assert.Contains("Coordination:Pool:ReconnectMaxDelay", result.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(100, 100)]
    [InlineData(100, 50)]
    public void Validate_ProbeTimeoutNotAboveDegradedLatency_Fails(int degradedMs, int probeMs)
    {
        var options = new CoordinationOptions();
        options.Health.DegradedLatency = TimeSpan.FromMilliseconds(degradedMs);
        options.Health.ProbeTimeout = TimeSpan.FromMilliseconds(probeMs);

        var result = Rules().Validate(Options.DefaultName, options);

        Assert.True(result.Failed);
        Assert.Contains("Coordination:Health:ProbeTimeout", result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SeveralRulesBroken_ReportsEach()
    {
        var options = new CoordinationOptions();
        options.Pool.MinConnections = 5;
        options.Pool.MaxConnections = 2;
        options.Health.ProbeTimeout = options.Health.DegradedLatency;

        var result = Rules(connectionString: null).Validate(Options.DefaultName, options);

        Assert.Equal(3, result.Failures!.Count());
    }
}
