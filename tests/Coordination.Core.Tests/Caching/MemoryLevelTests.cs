using System.Diagnostics.Metrics;

namespace Coordination.Core.Tests.Caching;

/// <summary>The memory level's budget: per-tenant shares, the process limit, fair trimming, exact accounting.</summary>
public sealed class MemoryLevelTests : IDisposable
{
    private const long Now = 1_000_000;
    private readonly Meter _meter = new("Coordination.Tests.MemoryLevel." + Guid.NewGuid().ToString("N"));
    private readonly List<(long Count, string Reason)> _evictions = [];
    private readonly MeterListener _listener = new();

    public MemoryLevelTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, _meter) && instrument.Name == "coordination.cache.memory.evictions")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            lock (_evictions)
            {
                _evictions.Add((value, (string)tags[0].Value!));
            }
        });
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _meter.Dispose();
    }

    [Theory]
    [InlineData(new long[] { 100 }, 90, 90)]
    [InlineData(new long[] { 50, 30, 30 }, 90, 30)]
    [InlineData(new long[] { 40, 40 }, 72, 36)]
    [InlineData(new long[] { 10, 500, 20 }, 450, 420)]
    [InlineData(new long[] { 10, 20 }, 100, 90)]
    [InlineData(new long[] { 10, 20 }, 0, 0)]
    [InlineData(new long[0], 100, 0)]
    public void WaterLevel_TrimsTheLargestHoldersToOneLevel(long[] used, long target, long expected)
    {
        var level = MemoryLevel.WaterLevel(used, target);

        Assert.Equal(expected, level);
        Assert.True(used.Sum(u => Math.Min(u, level)) <= target || target >= used.Sum());
    }

    [Fact]
    public void Store_TenantFloodsPastItsShare_EvictsOnlyItsOwnLeastRecentlyUsed()
    {
        var level = NewLevel(limit: 1000, share: 0.5);
        var a = level.AddTenant();
        var b = level.AddTenant();
        for (var i = 0; i < 4; i++)
        {
            Assert.True(b.Store($"b{i}", Item(100, lastAccess: i)));
        }

        for (var i = 0; i < 50; i++)
        {
            Assert.True(a.Store($"a{i}", Item(100, lastAccess: 100 + i)));
            Assert.InRange(a.UsedBytes, 0, level.ShareBytes);
            Assert.InRange(level.UsedBytes, 0, level.LimitBytes);
        }

        Assert.Equal(400, b.UsedBytes);
        Assert.All(Enumerable.Range(0, 4), i => Assert.True(b.ContainsKey($"b{i}")));
        // The share is 500; each eviction goes down to 90 % of it, so A keeps its 4 most recent entries.
        Assert.Equal(["a46", "a47", "a48", "a49"], a.Entries.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal(46, _evictions.Where(e => e.Reason == CacheMetrics.EvictedOverShare).Sum(e => e.Count));
        Assert.DoesNotContain(_evictions, e => e.Reason == CacheMetrics.EvictedOverLimit);
    }

    [Fact]
    public void Store_TenantsTogetherOverTheLimit_TrimsTheLargestHolderFirst()
    {
        var level = NewLevel(limit: 1000, share: 0.5);
        var (a, b, c) = (level.AddTenant(), level.AddTenant(), level.AddTenant());
        for (var i = 0; i < 5; i++)
        {
            a.Store($"a{i}", Item(100, lastAccess: i));
        }

        for (var i = 0; i < 3; i++)
        {
            b.Store($"b{i}", Item(100, lastAccess: 10 + i));
            c.Store($"c{i}", Item(100, lastAccess: 20 + i));
        }

        // 1100 charged crossed the limit: the fair level for a 900-byte target is 300, so only A gives up entries.
        Assert.Equal((300, 300, 300), (a.UsedBytes, b.UsedBytes, c.UsedBytes));
        Assert.Equal(900, level.UsedBytes);
        Assert.Equal(["a2", "a3", "a4"], a.Entries.Select(e => e.Key).Order(StringComparer.Ordinal));
        Assert.Equal(2, _evictions.Where(e => e.Reason == CacheMetrics.EvictedOverLimit).Sum(e => e.Count));
    }

    [Fact]
    public void Store_EntryLargerThanAQuarterOfTheShare_IsNotKeptAndDropsTheOlderEntry()
    {
        var level = NewLevel(limit: 1000, share: 0.5);
        var tenant = level.AddTenant();
        Assert.Equal(125, level.MaxEntryBytes);
        Assert.True(tenant.Store("k", Item(125)));

        Assert.False(tenant.Store("k", Item(126)));

        Assert.False(tenant.ContainsKey("k"));
        Assert.Equal(0, tenant.UsedBytes);
        Assert.Equal(0, level.UsedBytes);
    }

    [Fact]
    public void Store_ReplacingAKey_ChargesTheDifference()
    {
        var level = NewLevel(limit: 1000, share: 1);
        var tenant = level.AddTenant();
        tenant.Store("k", Item(100));
        tenant.Store("k", Item(40));
        Assert.Equal(40, tenant.UsedBytes);

        Assert.True(tenant.TryGetValue("k", out var item));
        Assert.False(tenant.Evict("k", Item(40)));
        Assert.True(tenant.Evict("k", item));
        tenant.Remove("absent");

        Assert.Equal((0, 0L, 0L), (tenant.Count, tenant.UsedBytes, level.UsedBytes));
    }

    [Fact]
    public void Compact_EvictsExpiredEntriesOfEveryTenantFirst()
    {
        var level = NewLevel(limit: 1000, share: 1);
        var (a, b) = (level.AddTenant(), level.AddTenant());
        a.Store("dead", Item(100, hardExpires: Now - 1));
        a.Store("memory-expired", Item(100, memoryExpires: Now - 1));
        a.Store("stale-but-fail-safe", Item(100, memoryExpires: Now - 1, expires: Now - 1));
        b.Store("live", Item(100));

        level.Compact();

        Assert.Equal(["stale-but-fail-safe"], a.Entries.Select(e => e.Key));
        Assert.True(b.ContainsKey("live"));
        Assert.Equal(200, level.UsedBytes);
        Assert.Equal(2, _evictions.Where(e => e.Reason == CacheMetrics.EvictedExpired).Sum(e => e.Count));
    }

    [Fact]
    public async Task Store_ConcurrentWritersOfFewKeys_AccountingStaysExact()
    {
        var level = NewLevel(limit: 100_000, share: 0.5);
        var tenant = level.AddTenant();
        var other = level.AddTenant();
        other.Store("kept", Item(1000));

        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(
            () =>
            {
                for (var i = 0; i < 20_000; i++)
                {
                    tenant.Store($"k{(i * 7 + w) % 300}", Item(100 + ((i + w) % 900)));
                }
            },
            TestContext.Current.CancellationToken)));

        Assert.Equal(tenant.Entries.Sum(e => e.Value.Size), tenant.UsedBytes);
        Assert.Equal(tenant.UsedBytes + other.UsedBytes, level.UsedBytes);
        Assert.InRange(tenant.UsedBytes, 1, level.ShareBytes);
        Assert.True(other.ContainsKey("kept"));
    }

    private MemoryLevel NewLevel(long limit, double share) =>
        new(new CacheOptions { MemorySizeLimitBytes = limit, MemoryTenantShare = share }, new CacheMetrics(_meter), () => Now);

    private static CacheItem Item(long size, long lastAccess = 0, long memoryExpires = Now + 60_000, long expires = Now + 60_000, long hardExpires = Now + 60_000)
    {
        var info = new StoredEntryInfo(Now - 1, Math.Min(expires, hardExpires), hardExpires, 0, 0, []);
        return new CacheItem("value", info, memoryExpires, size) { LastAccess = lastAccess };
    }
}
