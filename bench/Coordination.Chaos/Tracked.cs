namespace Coordination.Chaos;

/// <summary>
/// What the load knows of one session or cache key: the last value whose write was acknowledged, the values of writes
/// that failed (each may still have taken effect: a timed-out write is ambiguous), and the highest value attempted.
/// </summary>
internal sealed class Tracked(string id)
{
    public string Id { get; } = id;

    /// <summary>The session's user (sessions only).</summary>
    public string? Owner { get; init; }

    public long Acknowledged { get; set; } = -1;

    public long Attempted { get; set; } = -1;

    public HashSet<long> Failed { get; } = [];

    /// <summary>Whether <paramref name="value"/> read back after recovery keeps the promise: the acknowledged value or a later one, or a failed write.</summary>
    public bool Accepts(long value) => (value >= Acknowledged && value <= Attempted) || Failed.Contains(value);
}
