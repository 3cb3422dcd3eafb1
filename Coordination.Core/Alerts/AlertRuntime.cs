using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// The alerts of one node, owned by the container (<c>WithAlerts</c>): every <see cref="AlertsOptions.EvaluationInterval"/>
/// it evaluates this node's rules (<see cref="AlertRuleEvaluator"/>, from the coordination events, a status snapshot and
/// the Redis round trips of this node) and the conditions other capabilities raised (<see cref="IAlertConditions"/>),
/// reports them to the shared store, which decides atomically which node sends each notification, and hands the
/// notifications this node won to the <see cref="AlertDispatcher"/>. While the shared store does not answer, the node
/// decides alone (<see cref="LocalAlertStore"/>); an incident it notified alone it also repeats and resolves alone,
/// and it is not notified again through the shared store.
/// </summary>
internal sealed class AlertRuntime : BackgroundService
{
    private readonly AlertsOptions _options;
    private readonly AlertConditions _conditions;
    private readonly ICoordinationEvents _events;
    private readonly ICoordinationMonitor _monitor;
    private readonly CoordinationMetrics _coordinationMetrics;
    private readonly IAlertStore _store;
    private readonly LocalAlertStore _local;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly MeterListener _latencyListener = new();
    private readonly HashSet<string> _activeHere = new(StringComparer.Ordinal);
    // Rule -> incident, for the incidents this node notified alone while the shared store did not answer.
    private readonly Dictionary<string, string> _notifiedAlone = new(StringComparer.Ordinal);
    private bool _storeDown;

    public AlertRuntime(
        AlertsOptions options,
        string node,
        AlertConditions conditions,
        ICoordinationEvents events,
        ICoordinationMonitor monitor,
        CoordinationMetrics coordinationMetrics,
        IAlertStore store,
        IHttpClientFactory httpClients,
        TimeProvider time,
        ILoggerFactory loggerFactory)
    {
        _options = options;
        Node = node;
        _conditions = conditions;
        _events = events;
        _monitor = monitor;
        _coordinationMetrics = coordinationMetrics;
        _store = store;
        _time = time;
        _logger = loggerFactory.CreateLogger("Coordination.Alerts");
        _local = new LocalAlertStore(options, time);
        Evaluator = new AlertRuleEvaluator(options, time);
        Metrics = new AlertsMetrics(coordinationMetrics, () => Volatile.Read(ref _activeCount));
        Dispatcher = new AlertDispatcher(options, httpClients, Metrics, _logger);
    }

    private int _activeCount;

    /// <summary>How long queued notifications may still be posted once the host stops.</summary>
    internal static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    public string Node { get; }

    public AlertRuleEvaluator Evaluator { get; }

    public AlertsMetrics Metrics { get; }

    public AlertDispatcher Dispatcher { get; }

    public IAlertStore Store => _store;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        _events.CircuitOpened += OnCircuitOpened;
        _events.CircuitClosed += OnCircuitClosed;
        _events.LockLost += OnLockLost;
        _latencyListener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _coordinationMetrics.Meter) && instrument.Name == "coordination.redis.operation.duration")
            {
                listener.EnableMeasurementEvents(instrument, this);
            }
        };
        _latencyListener.SetMeasurementEventCallback<double>(static (_, seconds, tags, state) =>
        {
            // A call refused by the open circuit took no round trip.
            foreach (var tag in tags)
            {
                if (tag.Key == "coordination.outcome" && tag.Value is "rejected")
                {
                    return;
                }
            }

            ((AlertRuntime)state!).Evaluator.RecordLatency(seconds);
        });
        _latencyListener.Start();
        AlertsLog.Started(_logger, Node, _options.EvaluationInterval, _store.Kind, _options.Webhooks.Count);
        await base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _events.CircuitOpened -= OnCircuitOpened;
        _events.CircuitClosed -= OnCircuitClosed;
        _events.LockLost -= OnLockLost;
        _latencyListener.Dispose();
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _latencyListener.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Delivery outlives the evaluations by a bounded grace, so a notification decided just before the stop (a
        // resolved one, typically) is still posted.
        using var deliveryStop = new CancellationTokenSource();
        var delivery = Dispatcher.RunAsync(deliveryStop.Token);
        try
        {
            using var timer = new PeriodicTimer(_options.EvaluationInterval, _time);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await EvaluateOnceAsync(stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
#pragma warning disable CA1031 // One failed evaluation must not end the alerts of the node.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    AlertsLog.EvaluationFailed(_logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            Dispatcher.Complete();
            deliveryStop.CancelAfter(StopGrace);
            try
            {
                await delivery;
            }
            catch (OperationCanceledException) when (deliveryStop.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>One evaluation: the rules, the store's decision, the notifications this node sends.</summary>
    internal async Task EvaluateOnceAsync(CancellationToken cancellationToken)
    {
        var status = await _monitor.GetStatusAsync(cancellationToken);
        if (status.LatencyMilliseconds is { } ping)
        {
            Evaluator.RecordLatency(ping / 1000);
        }

        var conditions = new List<AlertCondition>(Evaluator.Evaluate(new AlertNodeStatus(status.Circuit, status.Fallback.Active, status.Fallback.MirrorBacklog)));
        conditions.AddRange(_conditions.Snapshot());
        LogChanges(conditions);

        // The node's own view is kept in step every time, so it can take over at once when the shared store fails.
        var alone = await _local.ReportAsync(Node, conditions, cancellationToken);

        // An incident this node notified alone stays its own to repeat and resolve: the shared store is told the rule is
        // clear on this node, so the same incident is not notified a second time once the store answers again.
        IReadOnlyList<AlertCondition> forShared = _notifiedAlone.Count == 0
            ? conditions
            : [.. conditions.Select(c => _notifiedAlone.ContainsKey(c.Rule) ? c with { Active = false, Details = null } : c)];
        IReadOnlyList<AlertNotification> shared;
        try
        {
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(TimeSpan.FromTicks(Math.Max(_options.EvaluationInterval.Ticks, TimeSpan.FromSeconds(5).Ticks)));
            shared = await _store.ReportAsync(Node, forShared, bound.Token);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            Metrics.RecordStoreFailure();
            if (!_storeDown)
            {
                _storeDown = true;
                AlertsLog.StoreUnavailable(_logger, _store.Kind, ex);
            }

            foreach (var notification in alone)
            {
                if (notification.State == AlertNotification.Firing)
                {
                    _notifiedAlone[notification.Rule] = notification.Incident;
                }
                else
                {
                    _notifiedAlone.Remove(notification.Rule);
                }

                Dispatcher.Enqueue(notification);
            }

            return;
        }

        if (_storeDown)
        {
            _storeDown = false;
            AlertsLog.StoreRecovered(_logger, _store.Kind);
        }

        foreach (var notification in alone)
        {
            if (_notifiedAlone.TryGetValue(notification.Rule, out var incident) && incident == notification.Incident)
            {
                if (notification.State == AlertNotification.Resolved)
                {
                    _notifiedAlone.Remove(notification.Rule);
                }

                Dispatcher.Enqueue(notification);
            }
        }

        foreach (var notification in shared)
        {
            Dispatcher.Enqueue(notification);
        }
    }

    private void LogChanges(List<AlertCondition> conditions)
    {
        foreach (var condition in conditions)
        {
            if (condition.Active && _activeHere.Add(condition.Rule))
            {
                AlertsLog.ConditionRaised(_logger, condition.Rule, condition.Details);
            }
            else if (!condition.Active && _activeHere.Remove(condition.Rule))
            {
                AlertsLog.ConditionCleared(_logger, condition.Rule);
            }
        }

        Volatile.Write(ref _activeCount, _activeHere.Count);
    }

    private void OnCircuitOpened(object? sender, CircuitEventArgs e) => Evaluator.OnCircuitOpened();

    private void OnCircuitClosed(object? sender, CircuitEventArgs e) => Evaluator.OnCircuitClosed();

    private void OnLockLost(object? sender, LockLostEventArgs e) => Evaluator.OnLockLost(e.Reason);
}
