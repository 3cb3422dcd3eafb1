using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;

namespace Coordination;

/// <summary>
/// One tenant's part of the memory level: its entries and the bytes they are charged, kept in step with the
/// process-wide total of <see cref="MemoryLevel"/>.
/// </summary>
internal sealed class TenantMemory
{
    private readonly ConcurrentDictionary<string, CacheItem> _entries = new(StringComparer.Ordinal);
    private readonly MemoryLevel _level;
    private long _usedBytes;

    internal TenantMemory(MemoryLevel level)
    {
        _level = level;
    }

    /// <summary>The bytes this tenant's entries are charged.</summary>
    public long UsedBytes => Interlocked.Read(ref _usedBytes);

    public int Count => _entries.Count;

    public IEnumerable<KeyValuePair<string, CacheItem>> Entries => _entries;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out CacheItem item) => _entries.TryGetValue(key, out item);

    public bool ContainsKey(string key) => _entries.ContainsKey(key);

    /// <summary>
    /// Keeps <paramref name="item"/> under <paramref name="key"/>, replacing the key's previous entry, then brings the
    /// tenant back within its share and the level within its limit. An item larger than
    /// <see cref="MemoryLevel.MaxEntryBytes"/> is not kept, and the key's previous entry is dropped (it is older).
    /// </summary>
    /// <returns>Whether the item was kept.</returns>
    public bool Store(string key, CacheItem item)
    {
        if (!_level.Admits(item.Size))
        {
            Remove(key);
            _level.Metrics.MemoryRejected();
            return false;
        }

        // Replace with compare-and-swap so that two writers of one key charge the difference exactly once each.
        while (true)
        {
            if (_entries.TryGetValue(key, out var previous))
            {
                if (_entries.TryUpdate(key, item, previous))
                {
                    Charge(item.Size - previous.Size);
                    break;
                }
            }
            else if (_entries.TryAdd(key, item))
            {
                Charge(item.Size);
                break;
            }
        }

        _level.Grew(this);
        return true;
    }

    /// <summary>
    /// Replaces <paramref name="expected"/> by <paramref name="item"/> if it is still the entry of
    /// <paramref name="key"/> (atomically: an eviction of it in between wins).
    /// </summary>
    public bool Replace(string key, CacheItem expected, CacheItem item)
    {
        if (!_entries.TryUpdate(key, item, expected))
        {
            return false;
        }

        Charge(item.Size - expected.Size);
        _level.Grew(this);
        return true;
    }

    /// <summary>Removes <paramref name="item"/> if it is still the entry of <paramref name="key"/>.</summary>
    public bool Evict(string key, CacheItem item)
    {
        if (_entries.TryRemove(new KeyValuePair<string, CacheItem>(key, item)))
        {
            Charge(-item.Size);
            return true;
        }

        return false;
    }

    public void Remove(string key)
    {
        if (_entries.TryGetValue(key, out var item))
        {
            Evict(key, item);
        }
    }

    /// <summary>Evicts the entries that can no longer be served at <paramref name="now"/> (Redis clock, ms).</summary>
    internal long EvictExpired(long now)
    {
        long evicted = 0;
        foreach (var (key, item) in _entries)
        {
            if (IsExpired(item, now) && Evict(key, item))
            {
                evicted++;
            }
        }

        return evicted;
    }

    /// <summary>Evicts the least recently used entries until the tenant is charged at most <paramref name="goalBytes"/>.</summary>
    internal long EvictLeastRecentlyUsed(long goalBytes)
    {
        if (UsedBytes <= goalBytes)
        {
            return 0;
        }

        var candidates = _entries.ToArray();
        Array.Sort(candidates, static (a, b) => a.Value.LastAccess.CompareTo(b.Value.LastAccess));
        long evicted = 0;
        foreach (var (key, item) in candidates)
        {
            if (UsedBytes <= goalBytes)
            {
                break;
            }

            evicted += Evict(key, item) ? 1 : 0;
        }

        return evicted;
    }

    /// <summary>
    /// Whether an entry is of no further use: past its fail-safe window, or past its memory time to live when it has
    /// no fail-safe window that a stale read could still use.
    /// </summary>
    private static bool IsExpired(CacheItem item, long now) =>
        now >= item.HardExpires || (now >= item.MemoryExpires && item.HardExpires <= item.Expires);

    private void Charge(long delta)
    {
        Interlocked.Add(ref _usedBytes, delta);
        _level.Charge(delta);
    }
}
