using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>
/// The session instruments of the <c>Coordination</c> meter. Tags never carry session ids, users or tenants. Sessions
/// that end by expiring are counted when a cleanup finds them; live sessions are counted by the cleanup's scan (a
/// counter kept on every call would drift with every expiry Redis makes without telling anyone).
/// </summary>
internal sealed class SessionMetrics
{
    private static readonly KeyValuePair<string, object?> ByCall = new("coordination.sessions.reason", "revoke");
    private static readonly KeyValuePair<string, object?> ByCap = new("coordination.sessions.reason", "cap");
    private readonly Counter<long> _created;
    private readonly Counter<long> _deleted;
    private readonly Counter<long> _revoked;
    private readonly Counter<long> _rotations;
    private readonly Counter<long> _conflicts;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _fallback;
    private readonly Counter<long> _replayed;
    private readonly Counter<long> _rebased;
    private long _active = -1;
    private readonly Counter<long> _upgrades;

    public SessionMetrics(Meter meter)
    {
        _created = meter.CreateCounter<long>("coordination.sessions.created", "{session}", "Sessions created.");
        _deleted = meter.CreateCounter<long>("coordination.sessions.deleted", "{session}", "Sessions deleted one by one.");
        _revoked = meter.CreateCounter<long>("coordination.sessions.revoked", "{session}", "Live sessions ended together, by reason (revoke: all of a user's; cap: the user was over MaxSessionsPerUser).");
        _rotations = meter.CreateCounter<long>("coordination.sessions.rotations", "{rotation}", "Sessions given a new id.");
        _conflicts = meter.CreateCounter<long>("coordination.sessions.conflicts", "{update}", "Updates refused because the session's version was not the expected one.");
        _expired = meter.CreateCounter<long>("coordination.sessions.expired", "{session}", "Ended sessions whose index entries a cleanup removed (an expiry event published for each).");
        _fallback = meter.CreateCounter<long>("coordination.sessions.fallback", "{call}", "Session calls served by the durable copy in PostgreSQL while Redis was unavailable, by operation (read, write).");
        _replayed = meter.CreateCounter<long>("coordination.sessions.replayed", "{change}", "Session changes made in the durable copy while Redis was unavailable, replayed to Redis.");
        _rebased = meter.CreateCounter<long>("coordination.sessions.rebased", "{update}", "Updates made in Redis on a state that lacked a change made in the durable copy, applied again on top of the copy's.");
        meter.CreateObservableGauge(
            "coordination.sessions.active",
            () => Interlocked.Read(ref _active) is var active and >= 0 ? [new Measurement<long>(active)] : Array.Empty<Measurement<long>>(),
            "{session}",
            "Live sessions of all tenants as the last cleanup on this node counted them (reported where the cleanup runs).");
        _upgrades = meter.CreateCounter<long>("coordination.sessions.upgrades", "{session}", "Sessions read in an older data schema and upgraded, by outcome (written: written back; superseded: a concurrent change came first, nothing written; not_written: answered without a write-back, as list and reads from the durable copy do, or Redis did not take it; failed: an upgrader threw or its result was refused).");
    }

    public void RecordCreated(long endedByCap)
    {
        _created.Add(1);
        if (endedByCap > 0)
        {
            _revoked.Add(endedByCap, ByCap);
        }
    }

    public void RecordDeleted() => _deleted.Add(1);

    public void RecordRevoked(int count)
    {
        if (count > 0)
        {
            _revoked.Add(count, ByCall);
        }
    }

    public void RecordRotated() => _rotations.Add(1);

    public void RecordConflict() => _conflicts.Add(1);

    public void RecordExpired(long count)
    {
        if (count > 0)
        {
            _expired.Add(count);
        }
    }

    public void RecordFallback(bool write) => _fallback.Add(1, new KeyValuePair<string, object?>("coordination.sessions.operation", write ? "write" : "read"));

    public void RecordReplayed(long count) => _replayed.Add(count);

    public void RecordRebased() => _rebased.Add(1);

    public void RecordActive(long count) => Interlocked.Exchange(ref _active, count);
    /// <param name="outcome">written, superseded, not_written or failed.</param>
    public void RecordUpgrade(string outcome) => _upgrades.Add(1, new KeyValuePair<string, object?>("coordination.sessions.upgrade.outcome", outcome));
}
