namespace Coordination;

/// <summary>
/// The system-wide record of one rule, as the shared store keeps it (one row per rule): the current or last incident,
/// since when, whether it fires, which nodes hold it and when each last said so, and when it was last notified.
/// </summary>
internal sealed class AlertIncident(string rule)
{
    public string Rule { get; } = rule;

    public string? IncidentId { get; set; }

    public DateTimeOffset? Since { get; set; }

    public bool Firing { get; set; }

    /// <summary>The nodes that reported the rule active, with the time of their last report.</summary>
    public Dictionary<string, DateTimeOffset> Nodes { get; } = new(StringComparer.Ordinal);

    public DateTimeOffset? LastNotified { get; set; }

    public string? Details { get; set; }
}
