namespace Coordination.Core.Tests.Alerts;

public sealed class AlertIncidentLogicTests
{
    private static readonly TimeSpan Repeat = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan NodeTimeout = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    private int _ids;

    [Fact]
    public void Apply_TwoNodesRaiseTheSameRule_OnlyTheFirstReportNotifiesFiring()
    {
        var incident = new AlertIncident(AlertRules.CircuitOpen);

        var (_, first) = Report(incident, "a", true, "a sees it", T0);
        var (_, second) = Report(incident, "b", true, "b sees it", T0.AddSeconds(1));
        var (_, third) = Report(incident, "a", true, "a sees it", T0.AddSeconds(2));

        Assert.NotNull(first);
        Assert.Equal((AlertNotification.Firing, "a", T0, "a sees it", false), (first.State, first.Node, first.Since, first.Details, first.Repeat));
        Assert.Null(second);
        Assert.Null(third);
        Assert.Equal(["a", "b"], incident.Nodes.Keys.Order());
    }

    [Fact]
    public void Apply_StillHeldAfterRepeatInterval_OneRepeatPerInterval()
    {
        var incident = new AlertIncident(AlertRules.FallbackEngaged);
        var fired = Report(incident, "a", true, "x", T0).Notification!;

        var notifications = new List<(int Second, AlertNotification Notification)>();
        // Two nodes reporting every second for 3.5 intervals.
        for (var second = 1; second <= 210; second++)
        {
            foreach (var node in new[] { "a", "b" })
            {
                if (Report(incident, node, true, "x", T0.AddSeconds(second)).Notification is { } n)
                {
                    notifications.Add((second, n));
                }
            }
        }

        Assert.Equal([60, 120, 180], notifications.Select(n => n.Second));
        Assert.All(notifications, n => Assert.Equal((AlertNotification.Firing, true, fired.Incident, T0), (n.Notification.State, n.Notification.Repeat, n.Notification.Incident, n.Notification.Since)));
    }

    [Fact]
    public void Apply_ClearedOnOneNodeOnly_NotResolvedUntilClearedOnEvery()
    {
        var incident = new AlertIncident(AlertRules.MirrorBacklog);
        var fired = Report(incident, "a", true, null, T0).Notification!;
        Report(incident, "b", true, null, T0.AddSeconds(1));

        Assert.Null(Report(incident, "a", false, null, T0.AddSeconds(2)).Notification);
        var resolved = Report(incident, "b", false, null, T0.AddSeconds(3)).Notification;

        Assert.NotNull(resolved);
        Assert.Equal((AlertNotification.Resolved, "b", fired.Incident, T0), (resolved.State, resolved.Node, resolved.Incident, resolved.Since));
        Assert.False(incident.Firing);
        Assert.Null(Report(incident, "a", false, null, T0.AddSeconds(4)).Notification);
    }

    [Fact]
    public void Apply_HoldingNodeStopsReporting_ResolvedByAnotherAfterNodeTimeout()
    {
        var incident = new AlertIncident(AlertRules.LockLost);
        Report(incident, "dead", true, null, T0);

        Assert.Null(Report(incident, "alive", false, null, T0 + NodeTimeout).Notification);
        var resolved = Report(incident, "alive", false, null, T0 + NodeTimeout + TimeSpan.FromSeconds(1)).Notification;

        Assert.NotNull(resolved);
        Assert.Equal(AlertNotification.Resolved, resolved.State);
        Assert.Empty(incident.Nodes);
    }

    [Fact]
    public void Apply_RaisedAgainAfterResolved_NewIncident()
    {
        var incident = new AlertIncident(AlertRules.CircuitOpen);
        var first = Report(incident, "a", true, null, T0).Notification!;
        Report(incident, "a", false, null, T0.AddSeconds(1));

        var second = Report(incident, "a", true, null, T0.AddSeconds(2)).Notification!;

        Assert.NotEqual(first.Incident, second.Incident);
        Assert.Equal(T0.AddSeconds(2), second.Since);
        Assert.False(second.Repeat);
    }

    [Fact]
    public void Apply_InactiveReportOfUnknownNode_ChangesNothing()
    {
        var incident = new AlertIncident(AlertRules.CircuitOpen);

        var (changed, notification) = Report(incident, "a", false, null, T0);

        Assert.False(changed);
        Assert.Null(notification);
    }

    private (bool Changed, AlertNotification? Notification) Report(AlertIncident incident, string node, bool active, string? details, DateTimeOffset now) =>
        AlertIncidentLogic.Apply(incident, node, active, details, now, Repeat, NodeTimeout, () => (++_ids).ToString(System.Globalization.CultureInfo.InvariantCulture));
}
