using System.Collections.Concurrent;

namespace Coordination;

/// <summary>
/// The tag and prefix stamps of one tenant as one replica knows them: an entry created at or before a stamp of one of
/// its tags, or of a prefix of its key, is invalid. Bounded: beyond <see cref="Capacity"/> stamps the oldest is folded
/// into the tenant-wide <see cref="Floor"/> (every entry created at or before it is invalid), so dropping a stamp never
/// makes an entry valid again; it may invalidate a few more. Stamps older than <see cref="StampRetention"/> are dropped
/// outright, since entries older than <see cref="MaxEntryAge"/> count as invalid anyway.
/// </summary>
/// <remarks>
/// Reads are lock-free and cost O(tags of the entry + distinct prefix lengths), never O(stamps); writes take a lock.
/// A writer raises the floor before it removes the stamp it folds, and a reader looks at the stamps before the floor,
/// so a reader that misses a removed stamp sees the floor that replaced it.
/// </remarks>
internal sealed class InvalidationStamps
{
    /// <summary>
    /// The oldest an entry may be and still be served: the longest time to live (30 days), plus the largest jitter of
    /// the options (1 day), plus the longest fail-safe window (30 days). Older entries (a sliding entry touched for
    /// longer) count as invalidated, which is what lets stamps be dropped after <see cref="StampRetention"/>.
    /// </summary>
    public static readonly TimeSpan MaxEntryAge = CoordinationLimits.MaxTimeToLive + TimeSpan.FromDays(1) + CoordinationLimits.MaxTimeToLive;

    /// <summary>
    /// How long a stamp is kept: <see cref="MaxEntryAge"/> plus a day, so that a replica whose estimate of the Redis
    /// clock lags still finds every stamp that concerns an entry it does not yet count as too old.
    /// </summary>
    public static readonly TimeSpan StampRetention = MaxEntryAge + TimeSpan.FromDays(1);

    private static readonly long MaxEntryAgeMs = (long)MaxEntryAge.TotalMilliseconds;
    private static readonly long RetentionMs = (long)StampRetention.TotalMilliseconds;

    private readonly ConcurrentDictionary<string, long> _tags = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _prefixes = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> _prefixLookup;

    // Under _gate: stamps in the order they arrived (about the order of their values), the oldest first. A record
    // whose name was stamped again since is stale and skipped; the queue is rebuilt when stale records pile up.
    private readonly Queue<(string Name, bool IsPrefix, long Stamp)> _arrivals = new();
    private readonly Dictionary<int, int> _prefixLengthCounts = [];
    private readonly Lock _gate = new();
    private int[] _prefixLengths = [];
    private int _count;
    private long _floor;

    public InvalidationStamps(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        Capacity = capacity;
        _prefixLookup = _prefixes.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    /// <summary>The most stamps kept; beyond it the oldest are folded into <see cref="Floor"/>.</summary>
    public int Capacity { get; }

    /// <summary>Every entry created at or before this (Redis clock, ms) is invalid; 0 when nothing was folded.</summary>
    public long Floor => Volatile.Read(ref _floor);

    /// <summary>The tag and prefix stamps kept.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Whether an entry of <paramref name="key"/> created at <paramref name="created"/> with <paramref name="tags"/> is invalid at <paramref name="now"/>.</summary>
    public bool IsInvalidated(string key, long created, string[] tags, long now)
    {
        if (created <= now - MaxEntryAgeMs)
        {
            return true;
        }

        foreach (var tag in tags)
        {
            if (_tags.TryGetValue(tag, out var stamp) && stamp >= created)
            {
                return true;
            }
        }

        // One lookup per distinct prefix length that fits the key: the lengths are sorted.
        foreach (var length in Volatile.Read(ref _prefixLengths))
        {
            if (length > key.Length)
            {
                break;
            }

            if (_prefixLookup.TryGetValue(key.AsSpan(0, length), out var stamp) && stamp >= created)
            {
                return true;
            }
        }

        return created <= Volatile.Read(ref _floor);
    }

    /// <summary>
    /// Records that entries of <paramref name="name"/> (a tag, or a key prefix) created up to <paramref name="stamp"/>
    /// are invalid. Returns how many stamps were folded into the floor to stay within <see cref="Capacity"/>.
    /// </summary>
    public int Apply(string name, bool isPrefix, long stamp, long now)
    {
        lock (_gate)
        {
            if (stamp <= _floor || stamp <= now - RetentionMs)
            {
                return 0; // Covered by the floor, or older than any entry that may still be served.
            }

            var table = isPrefix ? _prefixes : _tags;
            if (table.TryGetValue(name, out var current))
            {
                if (current >= stamp)
                {
                    return 0;
                }

                table[name] = stamp;
            }
            else
            {
                table[name] = stamp;
                _count++;
                if (isPrefix)
                {
                    CountPrefixLength(name.Length, +1);
                }
            }

            _arrivals.Enqueue((name, isPrefix, stamp));
            return Trim(now);
        }
    }

    /// <summary>Raises the floor to <paramref name="floor"/> (Redis folded stamps into its own floor).</summary>
    public void ApplyFloor(long floor)
    {
        lock (_gate)
        {
            if (floor > _floor)
            {
                Volatile.Write(ref _floor, floor);
            }
        }
    }

    /// <summary>Drops stamps past retention and folds the oldest beyond the capacity. Under <see cref="_gate"/>.</summary>
    private int Trim(long now)
    {
        var folded = 0;
        while (_arrivals.TryPeek(out var oldest))
        {
            var expired = oldest.Stamp <= now - RetentionMs;
            if (!expired && _count <= Capacity)
            {
                break;
            }

            _arrivals.Dequeue();
            var table = oldest.IsPrefix ? _prefixes : _tags;
            if (!table.TryGetValue(oldest.Name, out var current) || current != oldest.Stamp)
            {
                continue; // Stale: the name was stamped again (a later record holds it).
            }

            if (!expired && oldest.Stamp > _floor)
            {
                Volatile.Write(ref _floor, oldest.Stamp); // Before the removal: see the remarks.
                folded++;
            }

            table.TryRemove(oldest.Name, out _);
            _count--;
            if (oldest.IsPrefix)
            {
                CountPrefixLength(oldest.Name.Length, -1);
            }
        }

        if (_arrivals.Count > (2 * Capacity) + 64)
        {
            RebuildArrivals();
        }

        return folded;
    }

    // A name stamped again and again leaves one stale record per stamp; rebuilding from the tables, in stamp order, is
    // O(capacity log capacity) once per more than capacity stamps.
    private void RebuildArrivals()
    {
        var live = new List<(string Name, bool IsPrefix, long Stamp)>(_count);
        live.AddRange(_tags.Select(static pair => (pair.Key, false, pair.Value)));
        live.AddRange(_prefixes.Select(static pair => (pair.Key, true, pair.Value)));
        live.Sort(static (a, b) => a.Stamp.CompareTo(b.Stamp));
        _arrivals.Clear();
        foreach (var record in live)
        {
            _arrivals.Enqueue(record);
        }
    }

    private void CountPrefixLength(int length, int delta)
    {
        var count = _prefixLengthCounts.GetValueOrDefault(length) + delta;
        if (count > 0)
        {
            _prefixLengthCounts[length] = count;
        }
        else
        {
            _prefixLengthCounts.Remove(length);
        }

        if (count == 0 || (count == 1 && delta > 0))
        {
            var lengths = _prefixLengthCounts.Keys.ToArray();
            Array.Sort(lengths);
            Volatile.Write(ref _prefixLengths, lengths);
        }
    }
}
