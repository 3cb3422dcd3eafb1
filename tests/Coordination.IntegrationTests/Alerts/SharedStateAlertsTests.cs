using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Alerts;

/// <summary>
/// The alerts that come from the state all nodes share in Redis: a node that stopped reporting and a Worker duty whose
/// last run failed. Two API-like nodes with node reports and alerts against real redis-server and a real HTTP
/// listener: each incident is notified once for the system and resolved when the shared state is healthy again.
/// </summary>
public sealed class SharedStateAlertsTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static KeyValuePair<string, string?>[] NodeSettings =>
    [
        new("Coordination:Nodes:Interval", "00:00:00.200"),
        new("Coordination:Nodes:Expiry", "00:00:03"),
    ];

    [Fact]
    public async Task NodeStopsReportingWithoutStopping_OneFiringFromTheSurvivors_ResolvedOnceItsReportExpired()
    {
        await using var webhook = AlertWebhook.Start();
        await using var redis = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        await using var a = await StartAsync(redis, prefix, "node-a", webhook);
        await using var b = await StartAsync(redis, prefix, "node-b", webhook);

        // A process killed with -9 leaves its last report and writes no other.
        var store = a.Host.Services.GetRequiredService<NodeReportStore>();
        await store.WriteAsync("api@crashed:1", JsonSerializer.Serialize(new NodeReport { Role = "api", Version = "x", IntervalMs = 200 }, NodeReportJson.Options), Token);

        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.NodeNotReporting).Count > 0, TimeSpan.FromSeconds(10), "node-not-reporting firing", Token);
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.NodeNotReporting, "resolved").Count > 0, TimeSpan.FromSeconds(15), "node-not-reporting resolved after the report expired", Token);

        var firing = Assert.Single(webhook.For(AlertRules.NodeNotReporting), p => p.State == "firing" && !p.Repeat);
        Assert.Contains("api@crashed:1", firing.Details, StringComparison.Ordinal);
        Assert.Equal(firing.Incident, Assert.Single(webhook.For(AlertRules.NodeNotReporting, "resolved")).Incident);
    }

    [Fact]
    public async Task DutyFailedItsLastRun_OneFiringNamingIt_ResolvedWhenItsNextRunSucceeds()
    {
        await using var webhook = AlertWebhook.Start();
        await using var redis = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        await using var a = await StartAsync(redis, prefix, "node-a", webhook);
        await using var b = await StartAsync(redis, prefix, "node-b", webhook);
        var duties = (await redis.GetAdminAsync()).GetDatabase();
        var key = DutyKeys.State(prefix);

        // The duty scheduler's record of a run (the format /v1/status reads), written as a failed run then a good one.
        await duties.HashSetAsync(key, "session-cleanup", """{"name":"session-cleanup","node":"worker@w:9","result":"failed","error":"TimeoutException","runs":5,"failures":1}""");
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.DutyFailing).Count > 0, TimeSpan.FromSeconds(10), "duty-failing firing", Token);
        await duties.HashSetAsync(key, "session-cleanup", """{"name":"session-cleanup","node":"worker@w:9","result":"ok","runs":6,"failures":1}""");
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.DutyFailing, "resolved").Count > 0, TimeSpan.FromSeconds(10), "duty-failing resolved", Token);

        var firing = Assert.Single(webhook.For(AlertRules.DutyFailing), p => p.State == "firing" && !p.Repeat);
        Assert.Contains("session-cleanup on worker@w:9 (TimeoutException, 1 of 5 runs failed)", firing.Details, StringComparison.Ordinal);
        Assert.Single(webhook.For(AlertRules.DutyFailing, "resolved"));
    }

    private static Task<AlertNode> StartAsync(RedisServer redis, string prefix, string node, AlertWebhook webhook) =>
        AlertNode.StartAsync(
            redis,
            prefix,
            AlertNode.Settings(node, webhook, NodeSettings),
            node,
            services => NodeReportRegistration.Add(services, "api", null));
}
