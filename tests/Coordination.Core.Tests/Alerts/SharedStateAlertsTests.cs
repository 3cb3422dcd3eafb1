using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.Alerts;

public class SharedStateAlertsTests
{
    private static (SharedStateAlerts Alerts, AlertConditions Conditions) Create()
    {
        var conditions = new AlertConditions();
        var alerts = new SharedStateAlerts(new ServiceCollection().BuildServiceProvider(), conditions, Options.Create(new AlertsOptions()), NullLogger<SharedStateAlerts>.Instance);
        return (alerts, conditions);
    }

    private static AlertCondition[] Active(AlertConditions conditions) => [.. conditions.Snapshot().Where(c => c.Active)];

    private static NodeReportsSnapshot Snapshot(bool complete, NodeReport[] nodes, NodeDutyReport[] duties) =>
        new() { Complete = complete, Nodes = nodes, Duties = duties };

    [Fact]
    public void Evaluate_StaleNodeAndFailedDuty_RaisesBothNamingThem_ThenClearsWhenTheSharedStateIsHealthy()
    {
        var (alerts, conditions) = Create();

        alerts.Evaluate(Snapshot(
            complete: true,
            [new NodeReport { Name = "api@a:1" }, new NodeReport { Name = "api@b:2", Stale = true }],
            [new NodeDutyReport { Name = "session-cleanup", Node = "worker@c:3", Result = "failed", Error = "TimeoutException", Runs = 4, Failures = 2 },
             new NodeDutyReport { Name = "fallback-purge", Result = "ok" }]));

        var raised = Active(conditions).ToDictionary(c => c.Rule);
        Assert.Contains("api@b:2", raised[AlertRules.NodeNotReporting].Details, StringComparison.Ordinal);
        Assert.DoesNotContain("api@a:1", raised[AlertRules.NodeNotReporting].Details, StringComparison.Ordinal);
        Assert.Contains("session-cleanup on worker@c:3 (TimeoutException, 2 of 4 runs failed)", raised[AlertRules.DutyFailing].Details, StringComparison.Ordinal);
        Assert.DoesNotContain("fallback-purge", raised[AlertRules.DutyFailing].Details, StringComparison.Ordinal);

        alerts.Evaluate(Snapshot(complete: true, [new NodeReport { Name = "api@a:1" }], [new NodeDutyReport { Name = "session-cleanup", Result = "ok" }]));

        Assert.Empty(Active(conditions));
    }

    [Fact]
    public void Evaluate_HealthyState_LeavesARuleSomeoneElseRaised()
    {
        var (alerts, conditions) = Create();
        conditions.Raise(AlertRules.DutyFailing, "raised by the application");

        alerts.Evaluate(Snapshot(complete: true, [new NodeReport { Name = "api@a:1" }], []));

        Assert.Equal("raised by the application", Assert.Single(Active(conditions)).Details);
    }

    [Fact]
    public void Evaluate_IncompleteRead_ChangesNothing()
    {
        var (alerts, conditions) = Create();
        alerts.Evaluate(Snapshot(complete: true, [new NodeReport { Name = "api@b:2", Stale = true }], []));

        alerts.Evaluate(Snapshot(complete: false, [], []));

        Assert.Single(Active(conditions), c => c.Rule == AlertRules.NodeNotReporting);
    }

    [Fact]
    public void Evaluate_ManyStaleNodes_DetailsNameTenAndCountTheRest()
    {
        var (alerts, conditions) = Create();

        alerts.Evaluate(Snapshot(complete: true, [.. Enumerable.Range(0, 25).Select(i => new NodeReport { Name = $"api@h{i:00}:1", Stale = true })], []));

        var details = Active(conditions).Single().Details!;
        Assert.StartsWith("25 node(s) stopped reporting: api@h00:1,", details, StringComparison.Ordinal);
        Assert.EndsWith("and 15 more.", details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExecuteAsync_WithoutNodeReports_DoesNothingAndEnds()
    {
        var (alerts, conditions) = Create();

        await alerts.StartAsync(TestContext.Current.CancellationToken);
        await alerts.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);

        Assert.Empty(Active(conditions));
    }
}
