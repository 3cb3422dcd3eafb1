namespace Coordination;

/// <summary>
/// How one node's report of one rule changes the shared record and whether that node sends a notification. The
/// PostgreSQL store applies it under the row's lock, the local store under its own; <c>alert_report.lua</c> is the
/// same logic in Lua for the Redis store (keep them in step). Exactly one report makes each transition, so exactly
/// one node sends each notification.
/// </summary>
internal static class AlertIncidentLogic
{
    /// <summary>
    /// Applies the report of <paramref name="node"/> (<paramref name="active"/>, <paramref name="details"/>) to
    /// <paramref name="incident"/> at the store's time <paramref name="now"/>.
    /// </summary>
    /// <returns>Whether the record changed (must be written), and the notification this node sends, if any.</returns>
    public static (bool Changed, AlertNotification? Notification) Apply(
        AlertIncident incident,
        string node,
        bool active,
        string? details,
        DateTimeOffset now,
        TimeSpan repeatInterval,
        TimeSpan nodeTimeout,
        Func<string> newIncidentId)
    {
        var changed = false;
        if (active)
        {
            incident.Nodes[node] = now;
            if (details is not null && details != incident.Details)
            {
                incident.Details = details;
            }

            changed = true;
        }
        else
        {
            changed |= incident.Nodes.Remove(node);
        }

        // A node that stopped reporting (crashed, cut off from the store) no longer holds the incident open.
        foreach (var stale in incident.Nodes.Where(pair => now - pair.Value > nodeTimeout).Select(pair => pair.Key).ToList())
        {
            incident.Nodes.Remove(stale);
            changed = true;
        }

        var held = incident.Nodes.Count > 0;
        if (held && !incident.Firing)
        {
            incident.Firing = true;
            incident.IncidentId = newIncidentId();
            incident.Since = now;
            incident.LastNotified = now;
            incident.Details = details;
            return (true, new AlertNotification(incident.Rule, AlertNotification.Firing, node, now, details, incident.IncidentId, Repeat: false));
        }

        if (held && incident.LastNotified is { } last && now - last >= repeatInterval)
        {
            incident.LastNotified = now;
            return (true, new AlertNotification(incident.Rule, AlertNotification.Firing, node, incident.Since ?? now, incident.Details, incident.IncidentId!, Repeat: true));
        }

        if (!held && incident.Firing)
        {
            incident.Firing = false;
            incident.LastNotified = now;
            return (true, new AlertNotification(incident.Rule, AlertNotification.Resolved, node, incident.Since ?? now, incident.Details, incident.IncidentId!, Repeat: false));
        }

        return (changed, null);
    }
}
