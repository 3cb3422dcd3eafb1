using System.Collections.Concurrent;
using System.Runtime.CompilerServices;

namespace Coordination;

/// <summary>
/// Sampled read counts of one cache: one read in <c>sampleRate</c> per thread is counted in a table of at most
/// <c>capacity</c> keys. An unsampled read costs a thread-local decrement: no lock, no interlocked operation, no
/// allocation. A sampled read of a known key is one lookup and one interlocked increment; a new key allocates its counter
/// (until the table is full, then new keys are ignored until the next <see cref="Drain"/>).
/// </summary>
internal sealed class HotKeyTracker
{
    [ThreadStatic]
    private static int t_countdown;

    private readonly ConcurrentDictionary<string, StrongBox<long>> _counts = new(StringComparer.Ordinal);
    private readonly int _sampleRate;
    private readonly int _capacity;
    private int _size;

    public HotKeyTracker(int sampleRate, int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleRate);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _sampleRate = sampleRate;
        _capacity = capacity;
    }

    public int SampleRate => _sampleRate;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Record(string key)
    {
        if (--t_countdown > 0)
        {
            return;
        }

        t_countdown = _sampleRate;
        Count(key);
    }

    /// <summary>The counted keys, most read first (at most <paramref name="top"/>), and an empty table for the next period.</summary>
    public KeyValuePair<string, long>[] Drain(int top)
    {
        var snapshot = _counts.ToArray();
        _counts.Clear();
        Volatile.Write(ref _size, 0);
        return [.. snapshot
            .Select(static e => new KeyValuePair<string, long>(e.Key, Volatile.Read(ref e.Value.Value)))
            .OrderByDescending(static e => e.Value)
            .ThenBy(static e => e.Key, StringComparer.Ordinal)
            .Take(top)];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Count(string key)
    {
        if (_counts.TryGetValue(key, out var count))
        {
            Interlocked.Increment(ref count.Value);
            return;
        }

        if (Interlocked.Increment(ref _size) > _capacity)
        {
            Interlocked.Decrement(ref _size);
            return;
        }

        if (!_counts.TryAdd(key, new StrongBox<long>(1)))
        {
            Interlocked.Decrement(ref _size);
            if (_counts.TryGetValue(key, out count))
            {
                Interlocked.Increment(ref count.Value);
            }
        }
    }
}
