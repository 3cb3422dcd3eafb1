using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Alerts;

/// <summary>
/// Alerts between real nodes (two hosts, each with its own connections, as two processes), real redis-server and
/// PostgreSQL processes, and a real HTTP listener as the webhook.
/// </summary>
public sealed class AlertsTests(PostgresFixture postgres)
{
    private static readonly KeyValuePair<string, string?>[] FastFailure =
    [
        new("Coordination:Resilience:AttemptTimeout", "00:00:00.300"),
        new("Coordination:Resilience:BreakDuration", "00:00:00.500"),
        new("Coordination:Health:ProbeTimeout", "00:00:00.300"),
        new("Coordination:Health:DegradedLatency", "00:00:00.200"),
        new("Coordination:Alerts:CircuitOpenThreshold", "00:00:01"),
    ];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task RedisPaused_TwoNodesWithPostgres_OneFiringPerRuleThenOneResolved()
    {
        await using var webhook = AlertWebhook.Start();
        await using var redis = await RedisServer.StartAsync(Token);
        var pg = await postgres.GetServerAsync();
        var schema = TestKeys.NewSchema();
        var prefix = TestKeys.NewPrefix();
        await using var a = await AlertNode.StartWithPostgresAsync(redis, pg, schema, prefix, AlertNode.Settings("node-a", webhook, FastFailure), "a");
        await using var b = await AlertNode.StartWithPostgresAsync(redis, pg, schema, prefix, AlertNode.Settings("node-b", webhook, FastFailure), "b");
        Assert.Equal("postgresql", a.Runtime.Store.Kind);
        await a.Host.Coordinator.SetAsync("alerts-traffic", "v", cancellationToken: Token);

        // Both nodes serve traffic, so both see the outage (circuit and fallback) on their own.
        using var traffic = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var loops = new[] { a, b }.Select(node => TrafficAsync(node.Host.Coordinator, traffic.Token)).ToArray();
        try
        {
            Assert.Empty(webhook.Posts);
            var paused = Stopwatch.GetTimestamp();
            await redis.PauseAsync();
            try
            {
                await ProcessUtil.WaitUntilAsync(
                    () => webhook.For(AlertRules.FallbackEngaged, "firing").Count > 0 && webhook.For(AlertRules.CircuitOpen, "firing").Count > 0,
                    TimeSpan.FromSeconds(15),
                    "firing notifications for fallback-engaged and circuit-open",
                    Token);
                var fired = Stopwatch.GetElapsedTime(paused);
                Output.WriteLine($"[measure] firing received {fired.TotalMilliseconds:F0} ms after Redis was paused (circuit threshold 1 s, evaluation every 100 ms)");

                // Both nodes hold both conditions; then a stretch of 10 more evaluations in which nobody may notify again.
                await ProcessUtil.WaitUntilAsync(
                    () => new[] { a, b }.All(n => n.Logs.Entries.Count(e => e.EventId == AlertNode.AlertConditionRaised && (e.Message.Contains(AlertRules.FallbackEngaged, StringComparison.Ordinal) || e.Message.Contains(AlertRules.CircuitOpen, StringComparison.Ordinal))) >= 2),
                    TimeSpan.FromSeconds(15),
                    "both nodes holding fallback-engaged and circuit-open",
                    Token);
                await Task.Delay(TimeSpan.FromSeconds(1), Token);
            }
            finally
            {
                await redis.ResumeAsync();
            }

            var firing = Assert.Single(webhook.For(AlertRules.FallbackEngaged, "firing"));
            Assert.False(firing.Repeat);
            Assert.Contains(firing.Node, new[] { "node-a", "node-b" });
            Assert.StartsWith("application/json", firing.ContentType, StringComparison.Ordinal);
            var circuitFiring = Assert.Single(webhook.For(AlertRules.CircuitOpen, "firing"));

            await ProcessUtil.WaitUntilAsync(
                () => webhook.For(AlertRules.FallbackEngaged, "resolved").Count > 0 && webhook.For(AlertRules.CircuitOpen, "resolved").Count > 0,
                TimeSpan.FromSeconds(20),
                "resolved notifications after Redis was resumed",
                Token);
            await Task.Delay(TimeSpan.FromSeconds(1), Token);

            var resolved = Assert.Single(webhook.For(AlertRules.FallbackEngaged, "resolved"));
            Assert.Equal(firing.Incident, resolved.Incident);
            Assert.Equal(firing.Since, resolved.Since);
            Assert.Equal(circuitFiring.Incident, Assert.Single(webhook.For(AlertRules.CircuitOpen, "resolved")).Incident);
            Assert.Single(webhook.For(AlertRules.FallbackEngaged, "firing"));
            // The notification is logged once for the system too, by the node that sent it.
            Assert.Equal(1, a.Logs.Entries.Concat(b.Logs.Entries).Count(e => e.EventId == AlertNode.AlertResolved && e.Message.Contains(AlertRules.FallbackEngaged, StringComparison.Ordinal)));
        }
        finally
        {
            await traffic.CancelAsync();
            await Task.WhenAll(loops);
        }
    }

    [Fact]
    public async Task RedisPaused_TwoNodesWithoutPostgres_EachNodeAlertsAloneOnceAndResolvesItsOwn()
    {
        await using var webhook = AlertWebhook.Start();
        await using var redis = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        await using var a = await AlertNode.StartAsync(redis, prefix, AlertNode.Settings("node-a", webhook, FastFailure), "a");
        await using var b = await AlertNode.StartAsync(redis, prefix, AlertNode.Settings("node-b", webhook, FastFailure), "b");
        using var traffic = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var loops = new[] { a, b }.Select(node => TrafficAsync(node.Host.Coordinator, traffic.Token)).ToArray();
        try
        {
            // The store is Redis itself: while it is paused each node decides alone (documented: alerts about Redis stay per node).
            await redis.PauseAsync();
            try
            {
                await ProcessUtil.WaitUntilAsync(
                    () => webhook.For(AlertRules.CircuitOpen, "firing").Select(p => p.Node).Distinct().Count() == 2,
                    TimeSpan.FromSeconds(15),
                    "a circuit-open firing from each node",
                    Token);
                await Task.Delay(TimeSpan.FromSeconds(1), Token);
            }
            finally
            {
                await redis.ResumeAsync();
            }

            await ProcessUtil.WaitUntilAsync(
                () => webhook.For(AlertRules.CircuitOpen, "resolved").Select(p => p.Node).Distinct().Count() == 2,
                TimeSpan.FromSeconds(20),
                "a circuit-open resolved from each node",
                Token);

            // Several evaluations after Redis answers again: the incidents notified alone are not notified once more through Redis.
            await Task.Delay(TimeSpan.FromSeconds(1), Token);
            foreach (var node in new[] { "node-a", "node-b" })
            {
                var firing = Assert.Single(webhook.For(AlertRules.CircuitOpen, "firing"), p => p.Node == node);
                var resolved = Assert.Single(webhook.For(AlertRules.CircuitOpen, "resolved"), p => p.Node == node);
                Assert.Equal(firing.Incident, resolved.Incident);
            }

            Assert.Equal(4, webhook.For(AlertRules.CircuitOpen).Count);
            Assert.True(a.Logs.Count(1835) == 1 && b.Logs.Count(1835) == 1, "Each node logs once that the store did not answer.");
        }
        finally
        {
            await traffic.CancelAsync();
            await Task.WhenAll(loops);
        }
    }

    [Fact]
    public async Task ConditionRaisedOnTwoNodes_RedisStore_OneFiringRepeatedAtBoundedRateAndResolvedWhenClearedEverywhere()
    {
        await using var webhook = AlertWebhook.Start();
        await using var redis = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        KeyValuePair<string, string?> repeat = new("Coordination:Alerts:RepeatInterval", "00:00:01");
        await using var a = await AlertNode.StartAsync(redis, prefix, AlertNode.Settings("node-a", webhook, repeat), "a");
        await using var b = await AlertNode.StartAsync(redis, prefix, AlertNode.Settings("node-b", webhook, repeat), "b");
        Assert.Equal("redis", a.Runtime.Store.Kind);

        a.Conditions.Raise(AlertRules.DutyFailing, "session-cleanup failed 3 times");
        b.Conditions.Raise(AlertRules.DutyFailing, "session-cleanup failed 3 times");
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.DutyFailing).Count > 0, TimeSpan.FromSeconds(5), "the first firing", Token);
        var first = webhook.For(AlertRules.DutyFailing)[0];

        // 5 s of two nodes reporting every 100 ms (about 100 reports): one repeat per second for the whole system.
        var window = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(5), Token);
        var observed = window.Elapsed;
        var posts = webhook.For(AlertRules.DutyFailing);
        var repeats = posts.Count(p => p.Repeat);
        Output.WriteLine($"[measure] {posts.Count} firing posts in {observed.TotalSeconds:F1} s of two nodes holding the condition (repeat interval 1 s): {repeats} repeats");
        Assert.Equal(1, posts.Count(p => !p.Repeat));
        Assert.InRange(repeats, 3, (int)Math.Ceiling(observed.TotalSeconds) + 1);
        Assert.All(posts, p => Assert.Equal(first.Incident, p.Incident));
        Assert.Equal("session-cleanup failed 3 times", first.Details);

        // Cleared on one node only: the other still holds it, so nothing is resolved.
        a.Conditions.Clear(AlertRules.DutyFailing);
        await Task.Delay(TimeSpan.FromMilliseconds(500), Token);
        Assert.Empty(webhook.For(AlertRules.DutyFailing, "resolved"));

        b.Conditions.Clear(AlertRules.DutyFailing);
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.DutyFailing, "resolved").Count > 0, TimeSpan.FromSeconds(5), "the resolved notification", Token);
        var countAtResolve = webhook.Posts.Count;
        await Task.Delay(TimeSpan.FromMilliseconds(500), Token);
        var resolved = Assert.Single(webhook.For(AlertRules.DutyFailing, "resolved"));
        Assert.Equal(first.Incident, resolved.Incident);
        Assert.Equal(countAtResolve, webhook.Posts.Count);
    }

    [Fact]
    public async Task NodeStopsReporting_WhileHoldingCondition_ResolvedByTheOtherAfterNodeTimeout()
    {
        await using var webhook = AlertWebhook.Start();
        await using var redis = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        KeyValuePair<string, string?> timeout = new("Coordination:Alerts:NodeTimeout", "00:00:01");
        await using var a = await AlertNode.StartAsync(redis, prefix, AlertNode.Settings("node-a", webhook, timeout), "a");
        var b = await AlertNode.StartAsync(redis, prefix, AlertNode.Settings("node-b", webhook, timeout), "b");
        b.Conditions.Raise(AlertRules.NodeNotReporting, "node-c silent for 30 s");
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.NodeNotReporting, "firing").Count > 0, TimeSpan.FromSeconds(5), "the firing", Token);

        // b dies holding the condition (its host stops without clearing it): a times it out.
        var stopped = Stopwatch.GetTimestamp();
        await b.DisposeAsync();
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.NodeNotReporting, "resolved").Count > 0, TimeSpan.FromSeconds(10), "the resolved notification", Token);
        Output.WriteLine($"[measure] resolved {Stopwatch.GetElapsedTime(stopped).TotalMilliseconds:F0} ms after the holding node stopped (node timeout 1 s)");
        var resolved = Assert.Single(webhook.For(AlertRules.NodeNotReporting, "resolved"));
        Assert.Equal("node-a", resolved.Node);
    }

    [Fact]
    public async Task Webhook_Answers500_RetriedThenCountedAndLoggedOnceNotLooped()
    {
        await using var webhook = AlertWebhook.Start();
        webhook.StatusCode = HttpStatusCode.InternalServerError;
        await using var redis = await RedisServer.StartAsync(Token);
        await using var node = await AlertNode.StartAsync(
            redis, TestKeys.NewPrefix(), AlertNode.Settings("node-a", webhook, new KeyValuePair<string, string?>("Coordination:Alerts:DeliveryRetries", "2")), "a");
        using var deliveries = new DeliveryCounter(node.Host);

        node.Conditions.Raise(AlertRules.DutyFailing, "failing");
        await ProcessUtil.WaitUntilAsync(() => node.Logs.Count(AlertNode.AlertDeliveryFailed) > 0, TimeSpan.FromSeconds(10), "the delivery failure log", Token);

        // Observed for 2 s more (20 evaluations): nothing is posted again.
        await Task.Delay(TimeSpan.FromSeconds(2), Token);
        Assert.Equal(3, webhook.Posts.Count); // the first attempt and 2 retries
        Assert.Equal(1, node.Logs.Count(AlertNode.AlertDeliveryFailed));
        Assert.Equal(1, deliveries.Failed);
        Assert.Equal(0, deliveries.Delivered);
        Assert.All(webhook.Posts, p => Assert.Equal(("duty-failing", "firing"), (p.Rule, p.State)));
    }

    [Fact]
    public async Task Webhook_Answers500_UnderServiceDefaultsStandardHandler_OnlyTheAlertsRetriesRun()
    {
        await using var webhook = AlertWebhook.Start();
        webhook.StatusCode = HttpStatusCode.ServiceUnavailable;
        await using var redis = await RedisServer.StartAsync(Token);

        // What ServiceDefaults does for every HttpClient of the API and the Worker: its 3 retries would multiply ours.
        await using var node = await AlertNode.StartAsync(
            redis,
            TestKeys.NewPrefix(),
            AlertNode.Settings("node-a", webhook, new KeyValuePair<string, string?>("Coordination:Alerts:DeliveryRetries", "1")),
            "a",
            services => services.ConfigureHttpClientDefaults(http => http.AddStandardResilienceHandler()));

        node.Conditions.Raise(AlertRules.DutyFailing, "failing");
        await ProcessUtil.WaitUntilAsync(() => node.Logs.Count(AlertNode.AlertDeliveryFailed) > 0, TimeSpan.FromSeconds(10), "the delivery failure log", Token);
        await Task.Delay(TimeSpan.FromSeconds(1), Token);

        Assert.Equal(2, webhook.Posts.Count);
    }

    [Fact]
    public async Task LockLost_RenewalRejected_RaisesLockLost()
    {
        await using var webhook = AlertWebhook.Start();
        await using var redis = await RedisServer.StartAsync(Token);
        await using var node = await AlertNode.StartAsync(redis, TestKeys.NewPrefix(), AlertNode.Settings("node-a", webhook), "a");
        var handle = await node.Host.Coordinator.Locks.AcquireAsync("alerted", new LockOptions { TimeToLive = TimeSpan.FromSeconds(1), AutoRenew = true }, Token);

        // Someone removed the hold behind the holder's back: the next renewal is refused.
        var admin = await redis.GetAdminAsync();
        var key = node.Host.RedisKey("alerted", "lock");
        await admin.GetDatabase().KeyDeleteAsync([(RedisKey)key, (RedisKey)(key + ":exp")]);
        await ProcessUtil.WaitUntilAsync(() => handle.HandleLost.IsCancellationRequested, TimeSpan.FromSeconds(5), "the handle's loss", Token);
        await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.LockLost, "firing").Count > 0, TimeSpan.FromSeconds(5), "the lock-lost firing", Token);

        var firing = Assert.Single(webhook.For(AlertRules.LockLost, "firing"));
        Assert.Contains("RenewalRejected", firing.Details, StringComparison.Ordinal);
        Assert.DoesNotContain("alerted", firing.Details, StringComparison.Ordinal); // lock names are tenant data
        await handle.DisposeAsync();
    }

    private static async Task TrafficAsync(IRedisCoordinator coordinator, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await coordinator.GetAsync<string>("alerts-traffic", cancellationToken);
                await Task.Delay(50, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (CoordinationException)
            {
            }
        }
    }

    /// <summary>Counts <c>coordination.alerts.deliveries</c> of one host by outcome.</summary>
    private sealed class DeliveryCounter : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _failed;
        private long _delivered;

        public DeliveryCounter(CoordinationTestHost host)
        {
            var meter = host.Services.GetRequiredService<CoordinationMetrics>().Meter;
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name == "coordination.alerts.deliveries")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "coordination.alert.outcome")
                    {
                        if (tag.Value is "failed")
                        {
                            Interlocked.Add(ref _failed, value);
                        }
                        else if (tag.Value is "delivered")
                        {
                            Interlocked.Add(ref _delivered, value);
                        }
                    }
                }
            });
            _listener.Start();
        }

        public long Failed => Interlocked.Read(ref _failed);

        public long Delivered => Interlocked.Read(ref _delivered);

        public void Dispose() => _listener.Dispose();
    }
}
