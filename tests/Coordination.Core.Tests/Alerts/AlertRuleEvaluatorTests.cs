using Microsoft.Extensions.Time.Testing;

namespace Coordination.Core.Tests.Alerts;

public sealed class AlertRuleEvaluatorTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));

    private static readonly AlertNodeStatus Healthy = new(CircuitState.Closed, FallbackActive: false, MirrorBacklog: 0);

    [Fact]
    public void Evaluate_CircuitOpenShorterThanThreshold_NotActiveThenActiveOnceItLasts()
    {
        var evaluator = new AlertRuleEvaluator(new AlertsOptions { CircuitOpenThreshold = TimeSpan.FromSeconds(30) }, _time);
        evaluator.OnCircuitOpened();
        _time.Advance(TimeSpan.FromSeconds(29));

        Assert.False(Rule(evaluator.Evaluate(Healthy with { Circuit = CircuitState.Open }), AlertRules.CircuitOpen).Active);

        _time.Advance(TimeSpan.FromSeconds(1));
        var condition = Rule(evaluator.Evaluate(Healthy with { Circuit = CircuitState.Open }), AlertRules.CircuitOpen);
        Assert.True(condition.Active);
        Assert.Contains("30 s", condition.Details, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_CircuitClosedBetween_OpenTimeStartsAgain()
    {
        var evaluator = new AlertRuleEvaluator(new AlertsOptions { CircuitOpenThreshold = TimeSpan.FromSeconds(10) }, _time);
        evaluator.OnCircuitOpened();
        _time.Advance(TimeSpan.FromSeconds(8));
        evaluator.OnCircuitClosed();
        evaluator.OnCircuitOpened();
        _time.Advance(TimeSpan.FromSeconds(8));

        Assert.False(Rule(evaluator.Evaluate(Healthy with { Circuit = CircuitState.Open }), AlertRules.CircuitOpen).Active);
    }

    [Fact]
    public void Evaluate_SnapshotSaysClosed_ClearsEvenWithoutTheEvent()
    {
        var evaluator = new AlertRuleEvaluator(new AlertsOptions { CircuitOpenThreshold = TimeSpan.Zero }, _time);
        evaluator.OnCircuitOpened();
        Assert.True(Rule(evaluator.Evaluate(Healthy with { Circuit = CircuitState.Isolated }), AlertRules.CircuitOpen).Active);

        Assert.False(Rule(evaluator.Evaluate(Healthy), AlertRules.CircuitOpen).Active);
    }

    [Fact]
    public void Evaluate_LockLost_ActiveForTheWindowThenCleared()
    {
        var evaluator = new AlertRuleEvaluator(new AlertsOptions { LockLostWindow = TimeSpan.FromMinutes(1) }, _time);
        Assert.False(Rule(evaluator.Evaluate(Healthy), AlertRules.LockLost).Active);

        evaluator.OnLockLost(LockLostReason.RenewalRejected);
        evaluator.OnLockLost(LockLostReason.PrimaryChanged);
        var condition = Rule(evaluator.Evaluate(Healthy), AlertRules.LockLost);
        Assert.True(condition.Active);
        Assert.Contains("2 lock(s)", condition.Details, StringComparison.Ordinal);
        Assert.Contains("PrimaryChanged", condition.Details, StringComparison.Ordinal);

        _time.Advance(TimeSpan.FromSeconds(61));
        Assert.False(Rule(evaluator.Evaluate(Healthy), AlertRules.LockLost).Active);
    }

    [Fact]
    public void Evaluate_LatencyP99AboveThreshold_ActiveOnlyWithEnoughSamplesInTheWindow()
    {
        var evaluator = new AlertRuleEvaluator(
            new AlertsOptions { LatencyThreshold = TimeSpan.FromMilliseconds(100), LatencyWindow = TimeSpan.FromSeconds(10), LatencyMinimumSamples = 100 }, _time);
        for (var i = 0; i < 98; i++)
        {
            evaluator.RecordLatency(0.001);
        }

        evaluator.RecordLatency(0.5);
        Assert.False(Rule(evaluator.Evaluate(Healthy), AlertRules.RedisLatency).Active); // 99 samples: not enough

        evaluator.RecordLatency(0.5);
        var condition = Rule(evaluator.Evaluate(Healthy), AlertRules.RedisLatency);
        Assert.True(condition.Active); // 100 samples, 2 slow: the p99 (rank 99) is slow
        Assert.Contains("500 ms", condition.Details, StringComparison.Ordinal);

        // The window slides past the slow samples.
        _time.Advance(TimeSpan.FromSeconds(11));
        for (var i = 0; i < 100; i++)
        {
            evaluator.RecordLatency(0.001);
        }

        Assert.False(Rule(evaluator.Evaluate(Healthy), AlertRules.RedisLatency).Active);
    }

    [Fact]
    public void Evaluate_OneSlowSampleInHundred_P99NotAboveThreshold()
    {
        var evaluator = new AlertRuleEvaluator(new AlertsOptions { LatencyThreshold = TimeSpan.FromMilliseconds(100), LatencyMinimumSamples = 1 }, _time);
        for (var i = 0; i < 99; i++)
        {
            evaluator.RecordLatency(0.001);
        }

        evaluator.RecordLatency(5);

        Assert.False(Rule(evaluator.Evaluate(Healthy), AlertRules.RedisLatency).Active);
    }

    [Fact]
    public void Evaluate_FallbackAndBacklog_FollowTheSnapshot()
    {
        var evaluator = new AlertRuleEvaluator(new AlertsOptions { MirrorBacklogThreshold = 100 }, _time);

        var conditions = evaluator.Evaluate(new AlertNodeStatus(CircuitState.Closed, FallbackActive: true, MirrorBacklog: 101));

        Assert.True(Rule(conditions, AlertRules.FallbackEngaged).Active);
        Assert.True(Rule(conditions, AlertRules.MirrorBacklog).Active);
        Assert.False(Rule(evaluator.Evaluate(Healthy with { MirrorBacklog = 100 }), AlertRules.MirrorBacklog).Active);
        Assert.Equal(AlertRules.Evaluated.Order(), conditions.Select(c => c.Rule).Order());
    }

    private static AlertCondition Rule(IReadOnlyList<AlertCondition> conditions, string rule) => Assert.Single(conditions, c => c.Rule == rule);
}
