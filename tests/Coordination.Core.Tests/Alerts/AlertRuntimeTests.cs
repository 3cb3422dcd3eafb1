using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Core.Tests.Alerts;

/// <summary>The runtime's decisions between the shared store and the node's own view, with fakes for everything it talks to.</summary>
public sealed class AlertRuntimeTests : IDisposable
{
    private readonly TestMeterFactory _meters = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 9, 0, 0, TimeSpan.Zero));
    private readonly AlertConditions _conditions = new();
    private readonly FakeStore _store = new();
    private readonly RecordingHandler _webhook = new();
    private readonly AlertRuntime _runtime;

    public AlertRuntimeTests()
    {
        var options = new AlertsOptions { NodeName = "node-a", RepeatInterval = TimeSpan.FromMinutes(10) };
        options.Webhooks.Add(new AlertWebhookOptions { Url = "http://hooks.example/alerts" });
        _runtime = new AlertRuntime(
            options,
            "node-a",
            _conditions,
            new NoEvents(),
            new HealthyMonitor(),
            new CoordinationMetrics(_meters),
            _store,
            new Clients(_webhook),
            _time,
            NullLoggerFactory.Instance);
    }

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EvaluateOnce_StoreAnswers_SendsWhatTheStoreDecided()
    {
        _conditions.Raise(AlertRules.DutyFailing, "x");

        await _runtime.EvaluateOnceAsync(Token);
        await _runtime.EvaluateOnceAsync(Token);

        var posts = await DrainAsync();
        var firing = Assert.Single(posts);
        Assert.Equal(("duty-failing", "firing", "node-a", "x"), (firing.Rule, firing.State, firing.Node, firing.Details));
    }

    [Fact]
    public async Task EvaluateOnce_StoreDown_NotifiesAloneThenResolvesAloneAndNeverThroughTheStore()
    {
        _store.Failing = true;
        _conditions.Raise(AlertRules.DutyFailing, "x");
        await _runtime.EvaluateOnceAsync(Token);

        // The store answers again while the condition still holds: the store hears the rule as clear on this node.
        _store.Failing = false;
        await _runtime.EvaluateOnceAsync(Token);
        Assert.False(_store.LastReport.Single(c => c.Rule == AlertRules.DutyFailing).Active);

        _conditions.Clear(AlertRules.DutyFailing);
        await _runtime.EvaluateOnceAsync(Token);

        var posts = await DrainAsync();
        Assert.Equal(["firing", "resolved"], posts.Select(p => p.State));
        Assert.Equal(posts[0].Incident, posts[1].Incident);
        Assert.Empty(_store.Notified);
    }

    [Fact]
    public async Task EvaluateOnce_HealthyNode_ReportsEveryEvaluatedRuleClear()
    {
        await _runtime.EvaluateOnceAsync(Token);

        Assert.Equal(AlertRules.Evaluated.Order(), _store.LastReport.Select(c => c.Rule).Order());
        Assert.All(_store.LastReport, c => Assert.False(c.Active));
        Assert.Empty(await DrainAsync());
    }

    public void Dispose()
    {
        _runtime.Dispose();
        _webhook.Dispose();
        _meters.Dispose();
    }

    private async Task<List<Posted>> DrainAsync()
    {
        _runtime.Dispatcher.Complete();
        await _runtime.Dispatcher.RunAsync(Token).WaitAsync(TimeSpan.FromSeconds(10), Token);
        return [.. _webhook.Posts];
    }

    private sealed record Posted(string Rule, string State, string Node, string? Details, string Incident);

    /// <summary>The shared store: the same logic as every store, or failing like an unreachable one.</summary>
    private sealed class FakeStore : IAlertStore
    {
        private readonly LocalAlertStore _inner = new(new AlertsOptions { RepeatInterval = TimeSpan.FromMinutes(10) }, TimeProvider.System);

        public bool Failing { get; set; }

        public IReadOnlyList<AlertCondition> LastReport { get; private set; } = [];

        public List<AlertNotification> Notified { get; } = [];

        public string Kind => "fake";

        public async Task<IReadOnlyList<AlertNotification>> ReportAsync(string node, IReadOnlyList<AlertCondition> conditions, CancellationToken cancellationToken)
        {
            if (Failing)
            {
                throw new TimeoutException("The store does not answer.");
            }

            LastReport = conditions;
            var notifications = await _inner.ReportAsync(node, conditions, cancellationToken);
            Notified.AddRange(notifications);
            return notifications;
        }
    }

    private sealed class RecordingHandler : HttpMessageHandler
    {
        public ConcurrentQueue<Posted> Posts { get; } = new();

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = await request.Content!.ReadAsStringAsync(cancellationToken);
            var root = JsonDocument.Parse(body).RootElement;
            Posts.Enqueue(new Posted(
                root.GetProperty("rule").GetString()!,
                root.GetProperty("state").GetString()!,
                root.GetProperty("node").GetString()!,
                root.GetProperty("details").GetString(),
                root.GetProperty("incident").GetString()!));
            return new HttpResponseMessage(HttpStatusCode.OK);
        }
    }

    private sealed class Clients(HttpMessageHandler handler) : IHttpClientFactory
    {
        public HttpClient CreateClient(string name) => new(handler, disposeHandler: false);
    }

    private sealed class HealthyMonitor : ICoordinationMonitor
    {
        public Task<CoordinationStatus> GetStatusAsync(CancellationToken cancellationToken = default) =>
            Task.FromResult(new CoordinationStatus(
                true,
                0.5,
                new ConnectionPoolStatus(1, 1, 0, 1, 1, []),
                CircuitState.Closed,
                new FallbackStatus(Configured: false, Ready: false, Active: false, MirrorBacklog: 0)));
    }

    private sealed class NoEvents : ICoordinationEvents
    {
        public event EventHandler<ConnectionEventArgs>? ConnectionLost { add { } remove { } }

        public event EventHandler<ConnectionEventArgs>? ConnectionRestored { add { } remove { } }

        public event EventHandler<CircuitEventArgs>? CircuitOpened { add { } remove { } }

        public event EventHandler<CircuitEventArgs>? CircuitClosed { add { } remove { } }

        public event EventHandler<FallbackEventArgs>? FallbackEngaged { add { } remove { } }

        public event EventHandler<FallbackEventArgs>? FallbackRecovered { add { } remove { } }

        public event EventHandler<LockLostEventArgs>? LockLost { add { } remove { } }
    }
}
