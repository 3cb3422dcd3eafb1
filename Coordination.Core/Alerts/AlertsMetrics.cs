using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>
/// The alerts' instruments on the <c>Coordination</c> meter. Rule names are a bounded catalogue (at most
/// <see cref="AlertConditions.MaxRules"/> more per node), so they may be tags.
/// </summary>
internal sealed class AlertsMetrics
{
    private readonly Counter<long> _notifications;
    private readonly Counter<long> _deliveries;
    private readonly Counter<long> _storeFailures;

    public AlertsMetrics(CoordinationMetrics metrics, Func<int> activeConditions)
    {
        var meter = metrics.Meter;
        _notifications = meter.CreateCounter<long>("coordination.alerts.notifications", "{notification}", "Alert notifications this node sent for the system, by rule and state.");
        _deliveries = meter.CreateCounter<long>("coordination.alerts.deliveries", "{delivery}", "Posts of notifications to webhooks, by outcome (delivered, failed, dropped).");
        _storeFailures = meter.CreateCounter<long>("coordination.alerts.store.failures", "{report}", "Reports the shared alert store did not answer (the node then decided alone).");
        meter.CreateObservableGauge("coordination.alerts.conditions", activeConditions, "{condition}", "Alert conditions that hold on this node.");
    }

    public void RecordNotification(string rule, string state) =>
        _notifications.Add(1, new("coordination.alert.rule", rule), new("coordination.alert.state", state));

    public void RecordDelivery(string outcome) => _deliveries.Add(1, new KeyValuePair<string, object?>("coordination.alert.outcome", outcome));

    public void RecordStoreFailure() => _storeFailures.Add(1);
}
