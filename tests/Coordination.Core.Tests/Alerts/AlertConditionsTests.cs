namespace Coordination.Core.Tests.Alerts;

public sealed class AlertConditionsTests
{
    [Fact]
    public void RaiseAndClear_CatalogueRule_SnapshotFollows()
    {
        var conditions = new AlertConditions();

        conditions.Raise(AlertRules.DutyFailing, "cleanup failed");
        Assert.Equal(new AlertCondition(AlertRules.DutyFailing, true, "cleanup failed"), Assert.Single(conditions.Snapshot()));

        conditions.Clear(AlertRules.DutyFailing);
        Assert.Equal(new AlertCondition(AlertRules.DutyFailing, false, null), Assert.Single(conditions.Snapshot()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("9starts-with-digit")]
    [InlineData("has space")]
    [InlineData("a-name-that-is-far-too-long-to-be-a-rule-name-and-so-it-is-refused-x")]
    public void Raise_InvalidName_ThrowsArgumentException(string rule)
    {
        var conditions = new AlertConditions();

        Assert.Throws<ArgumentException>(() => conditions.Raise(rule));
        Assert.Throws<ArgumentException>(() => conditions.Clear(rule));
    }

    [Fact]
    public void Raise_RuleTheCapabilityEvaluates_ThrowsArgumentException()
    {
        var conditions = new AlertConditions();

        Assert.All(AlertRules.Evaluated, rule => Assert.Throws<ArgumentException>(() => conditions.Raise(rule)));
    }

    [Fact]
    public void Raise_MoreDistinctRulesThanTheBound_Refused()
    {
        var conditions = new AlertConditions();
        for (var i = 0; i < AlertConditions.MaxRules; i++)
        {
            conditions.Raise($"custom-{i}");
        }

        Assert.Throws<InvalidOperationException>(() => conditions.Raise("one-more"));
        conditions.Raise("custom-0", "known rules can still be raised again");
        Assert.Equal(AlertConditions.MaxRules, conditions.Snapshot().Count);
    }

    [Fact]
    public void Raise_LongDetails_Truncated()
    {
        var conditions = new AlertConditions();

        conditions.Raise("custom", new string('x', 5000));

        Assert.Equal(AlertConditions.MaxDetailsLength, Assert.Single(conditions.Snapshot()).Details!.Length);
    }

    [Fact]
    public void Catalogue_HoldsEveryRuleOfTheIssue()
    {
        Assert.Equal(
            ["circuit-open", "redis-latency", "fallback-engaged", "mirror-backlog", "lock-lost", "node-not-reporting", "duty-failing"],
            AlertRules.All);
        Assert.All(AlertRules.All, rule => Assert.True(AlertRules.IsValidName(rule)));
    }
}
