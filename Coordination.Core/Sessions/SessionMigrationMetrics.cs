using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>The instruments of session migration (<see cref="SessionMigrationOptions"/>) on the <c>Coordination</c> meter.</summary>
internal sealed class SessionMigrationMetrics
{
    private static readonly KeyValuePair<string, object?> ByRead = new("coordination.sessions.migration.trigger", "read");
    private static readonly KeyValuePair<string, object?> ByBulk = new("coordination.sessions.migration.trigger", "bulk");
    private readonly Counter<long> _moved;

    public SessionMigrationMetrics(Meter meter)
    {
        _moved = meter.CreateCounter<long>(
            "coordination.sessions.migrated",
            "{session}",
            "Sessions moved from the migration source to the current location, by trigger (read: a call on the session or its user; bulk: the bulk migration).");
    }

    public void RecordMoved(bool bulk) => _moved.Add(1, bulk ? ByBulk : ByRead);
}
