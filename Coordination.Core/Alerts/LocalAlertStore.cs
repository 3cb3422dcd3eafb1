namespace Coordination;

/// <summary>
/// The incident table of this process alone: used while the shared store does not answer, so an outage of the store
/// itself still alerts (from every node that sees it, not once for the system).
/// </summary>
internal sealed class LocalAlertStore(AlertsOptions options, TimeProvider time) : IAlertStore
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, AlertIncident> _incidents = new(StringComparer.Ordinal);

    public string Kind => "local";

    public Task<IReadOnlyList<AlertNotification>> ReportAsync(string node, IReadOnlyList<AlertCondition> conditions, CancellationToken cancellationToken)
    {
        var notifications = new List<AlertNotification>();
        var now = time.GetUtcNow();
        lock (_gate)
        {
            foreach (var condition in conditions)
            {
                if (!_incidents.TryGetValue(condition.Rule, out var incident))
                {
                    if (!condition.Active)
                    {
                        continue;
                    }

                    incident = new AlertIncident(condition.Rule);
                    _incidents.Add(condition.Rule, incident);
                }

                var (_, notification) = AlertIncidentLogic.Apply(incident, node, condition.Active, condition.Details, now, options.RepeatInterval, options.NodeTimeout, static () => Guid.NewGuid().ToString("N"));
                if (notification is not null)
                {
                    notifications.Add(notification);
                }
            }
        }

        return Task.FromResult<IReadOnlyList<AlertNotification>>(notifications);
    }
}
