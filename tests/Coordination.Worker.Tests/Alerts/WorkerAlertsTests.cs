using Coordination.IntegrationTests.Alerts;
using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.Worker.Tests.Alerts;

/// <summary>The real worker runs the alerts capability: a condition raised in it reaches a real webhook, and is logged.</summary>
public sealed class WorkerAlertsTests(SharedRedisFixture redis)
{
    private const int AlertFiring = 1830;
    private const int AlertResolved = 1832;

    [Fact]
    public async Task DutyFailingRaisedInTheWorker_PostedToTheWebhookAndLogged()
    {
        await using var webhook = AlertWebhook.Start();
        await using var app = new WorkerApp(redis.Server.ConnectionString,
        [
            new("Coordination:Alerts:NodeName", "worker-1"),
            new("Coordination:Alerts:EvaluationInterval", "00:00:00.100"),
            new("Coordination:Alerts:Webhooks:0:Url", webhook.Url),
        ]);
        await app.StartAsync();
        Assert.Equal(webhook.Url, Assert.Single(app.Services.GetRequiredService<IOptions<AlertsOptions>>().Value.Webhooks).Url);
        var conditions = app.Services.GetRequiredService<IAlertConditions>();

        conditions.Raise(AlertRules.DutyFailing, "session-cleanup failed 3 times in a row");
        var firing = await WaitForAlertLogAsync(app, AlertFiring, "the firing log");
        Assert.Equal(LogLevel.Error, firing.Level);
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.DutyFailing, "firing").Count > 0, TimeSpan.FromSeconds(10), "the firing post", TestContext.Current.CancellationToken);
        var posted = Assert.Single(webhook.For(AlertRules.DutyFailing, "firing"));
        Assert.Equal(("worker-1", "session-cleanup failed 3 times in a row"), (posted.Node, posted.Details));

        conditions.Clear(AlertRules.DutyFailing);
        await WaitForAlertLogAsync(app, AlertResolved, "the resolved log");
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.DutyFailing, "resolved").Count > 0, TimeSpan.FromSeconds(10), "the resolved post", TestContext.Current.CancellationToken);
        Assert.Equal(posted.Incident, Assert.Single(webhook.For(AlertRules.DutyFailing, "resolved")).Incident);
    }

    /// <summary>The alerts capability logs under its own category (the library's), not the worker's.</summary>
    private static async Task<FakeLogRecord> WaitForAlertLogAsync(WorkerApp app, int eventId, string what)
    {
        FakeLogRecord? found = null;
        await ProcessUtil.WaitUntilAsync(
            () => (found = app.Logs.GetSnapshot().FirstOrDefault(r => r.Id.Id == eventId && r.Category == "Coordination.Alerts")) is not null,
            TimeSpan.FromSeconds(10),
            what,
            TestContext.Current.CancellationToken);
        return found!;
    }
}
