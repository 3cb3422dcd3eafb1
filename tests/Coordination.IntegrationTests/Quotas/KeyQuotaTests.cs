using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Quotas;

/// <summary>
/// The per-tenant key quota of the key/value store (<c>Coordination:Quotas:MaxKeysPerTenant</c>) against a real
/// redis-server: a tenant cannot create keys past it, whatever it does, and the other tenants do not notice.
/// </summary>
public sealed class KeyQuotaTests(SharedRedisFixture redis) : IAsyncLifetime
{
    private const int Quota = 5;

    private CoordinationTestHost _host = null!;
    private IDatabase _admin = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    public async ValueTask InitializeAsync()
    {
        _host = await CoordinationTestHost.StartAsync(redis.ConnectionString, settings: [new("Coordination:Quotas:MaxKeysPerTenant", Quota.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        _admin = (await redis.GetAdminAsync()).GetDatabase();
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task SetAsync_PastTheQuota_IsRefusedAndStoresNothing_OtherTenantsUnaffected()
    {
        using var refusals = new HostCounter(_host, "coordination.quota.refusals");
        var hog = _host.Factory.ForTenant("hog");
        var neighbour = _host.Factory.ForTenant("neighbour");
        for (var i = 0; i < Quota; i++)
        {
            await hog.SetAsync($"k{i}", i, cancellationToken: Token);
        }

        for (var i = Quota; i < Quota + 20; i++)
        {
            var refused = await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await hog.SetAsync($"k{i}", i, cancellationToken: Token));
            Assert.Equal(("keys", (long)Quota), (refused.Quota, refused.Limit));
        }

        Assert.Equal(Quota, await CountKeysAsync("hog"));
        Assert.Equal(20, refusals.Total);
        Assert.False((await hog.GetAsync<int>($"k{Quota}", Token)).HasValue);

        // The neighbour's whole quota stays its own, at the speed of any write.
        var elapsed = new List<double>();
        for (var i = 0; i < Quota; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await neighbour.SetAsync($"k{i}", i, cancellationToken: Token);
            elapsed.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }

        Output.WriteLine($"[measure] the neighbour's writes while the hog is at its quota: {string.Join(", ", elapsed.Select(ms => ms.ToString("F2", System.Globalization.CultureInfo.InvariantCulture)))} ms");
        Assert.Equal(Quota, await CountKeysAsync("neighbour"));
        Assert.True(elapsed.Min() < 100, "The neighbour's writes are slow.");
    }

    [Fact]
    public async Task RefusedWrite_IsUndoneOnlyWhileTheKeyStillHoldsIt_AWriteThatLandedMeanwhileStays()
    {
        // The undo of a refused write runs after it; another write of the same name (acknowledged: it found the key
        // existing, so it was counted) may land in between, and must survive the undo.
        var key = $"{_host.KeyPrefix}:undo:kv:k";
        var refused = (RedisValue)"refused value"u8.ToArray();
        await _admin.StringSetAsync(key, "a later write");
        Assert.Equal(0, (long)await RedisScript.KeyQuotaUndo.EvaluateAsync(_admin, [key], [refused]));
        Assert.Equal("a later write", (string?)await _admin.StringGetAsync(key));

        await _admin.StringSetAsync(key, refused);
        Assert.Equal(1, (long)await RedisScript.KeyQuotaUndo.EvaluateAsync(_admin, [key], [refused]));
        Assert.False(await _admin.KeyExistsAsync(key));
    }

    [Fact]
    public async Task SetAsync_OverwritingKeys_NeverCountsTwiceNorIsRefused()
    {
        var tenant = _host.Factory.ForTenant("overwrite");
        for (var i = 0; i < Quota; i++)
        {
            await tenant.SetAsync($"k{i}", i, cancellationToken: Token);
        }

        // At the quota: every existing key can still be rewritten, with and without a TTL.
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < Quota; i++)
            {
                await tenant.SetAsync($"k{i}", round, round % 2 == 0 ? TimeSpan.FromMinutes(5) : null, Token);
            }
        }

        Assert.Equal(Quota, await _admin.SortedSetLengthAsync(Ledger("overwrite")));
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.SetAsync("new", 0, cancellationToken: Token));
        Assert.Equal(2, (await tenant.GetAsync<int>("k0", Token)).Value);
    }

    [Fact]
    public async Task DeleteAsync_FreesQuota()
    {
        var tenant = _host.Factory.ForTenant("deleting");
        for (var i = 0; i < Quota; i++)
        {
            await tenant.SetAsync($"k{i}", i, cancellationToken: Token);
        }

        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.SetAsync("later", 0, cancellationToken: Token));
        Assert.True(await tenant.DeleteAsync("k0", Token));
        await tenant.SetAsync("later", 1, cancellationToken: Token);
        Assert.Equal(1, (await tenant.GetAsync<int>("later", Token)).Value);
        Assert.Equal(Quota, await CountKeysAsync("deleting"));
    }

    [Fact]
    public async Task ExpiredKeys_FreeQuota()
    {
        var tenant = _host.Factory.ForTenant("expiring");
        for (var i = 0; i < Quota; i++)
        {
            await tenant.SetAsync($"k{i}", i, TimeSpan.FromMilliseconds(300), Token);
        }

        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.SetAsync("later", 0, cancellationToken: Token));
        await ProcessUtil.WaitUntilAsync(async () => await CountKeysAsync("expiring") == 0, TimeSpan.FromSeconds(5), "the keys to expire", Token, TimeSpan.FromMilliseconds(20));

        for (var i = 0; i < Quota; i++)
        {
            await tenant.SetAsync($"later{i}", i, cancellationToken: Token);
        }

        Assert.Equal(Quota, await CountKeysAsync("expiring"));
    }

    [Fact]
    public async Task KeyWrittenBeforeTheQuota_CanStillBeOverwrittenAtTheQuota()
    {
        // A key from before the quota was on (or written during a fallback outage) is not in the ledger: rewriting it
        // creates nothing, so it is neither refused nor deleted.
        var tenant = _host.Factory.ForTenant("upgraded");
        await _admin.StringSetAsync(_host.RedisKey("old", tenant: "upgraded"), "1");
        for (var i = 0; i < Quota; i++)
        {
            await tenant.SetAsync($"k{i}", i, cancellationToken: Token);
        }

        await tenant.SetAsync("old", 2, cancellationToken: Token);
        Assert.Equal(2, (await tenant.GetAsync<int>("old", Token)).Value);
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.SetAsync("new", 0, cancellationToken: Token));
    }

    [Fact]
    public async Task ConcurrentWritesAndDeletesOfTheSameNames_NeverLeaveAKeyUncounted()
    {
        // Writes and deletes of one name race through two hash slots (the key, the ledger): whatever the interleaving,
        // the ledger must count every key that is left, or the quota could be passed by racing.
        // A quota that is never reached, so every name's last operation decides what is left.
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString, keyPrefix: _host.KeyPrefix, settings: [new("Coordination:Quotas:MaxKeysPerTenant", "1000")]);
        var tenant = host.Factory.ForTenant("racing");
        var names = Enumerable.Range(0, 1500).Select(i => $"r{i / 15}").ToArray();
        var refused = 0;
        await Parallel.ForEachAsync(names.Select((name, i) => (name, i)), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Token }, async (item, ct) =>
        {
            try
            {
                if ((item.i + (item.i / 15)) % 3 == 2)
                {
                    await tenant.DeleteAsync(item.name, ct);
                }
                else
                {
                    await tenant.SetAsync(item.name, item.i, item.i % 2 == 0 ? TimeSpan.FromMinutes(1) : null, ct);
                }
            }
            catch (CoordinationQuotaExceededException)
            {
                Interlocked.Increment(ref refused);
            }
        });

        var live = await LiveNamesAsync("racing");
        var counted = (await _admin.SortedSetRangeByRankAsync(Ledger("racing"))).Select(v => (string)v!).ToHashSet();
        Output.WriteLine($"[measure] {live.Count} keys left, {counted.Count} counted, {refused} writes refused");
        Assert.Empty(live.Except(counted));
        Assert.Equal(0, refused);
    }

    [Fact]
    public async Task QuotaOff_WritesArePlainAndKeepNoLedger()
    {
        await using var unlimited = await CoordinationTestHost.StartAsync(redis.ConnectionString, settings: [new("Coordination:Quotas:MaxKeysPerTenant", "0")]);
        for (var i = 0; i < Quota * 2; i++)
        {
            await unlimited.Coordinator.SetAsync($"k{i}", i, cancellationToken: Token);
        }

        Assert.True(await unlimited.Coordinator.DeleteAsync("k0", Token));
        Assert.False(await _admin.KeyExistsAsync($"{unlimited.KeyPrefix}:default:kv-ledger:{{{unlimited.KeyPrefix}:default}}"));
    }

    private RedisKey Ledger(string tenant) => $"{_host.KeyPrefix}:{tenant}:kv-ledger:{{{_host.KeyPrefix}:{tenant}}}";

    private async Task<int> CountKeysAsync(string tenant) => (await LiveNamesAsync(tenant)).Count;

    private async Task<HashSet<string>> LiveNamesAsync(string tenant)
    {
        var head = $"{_host.KeyPrefix}:{tenant}:kv:";
        return [.. (await redis.KeysAsync(head + "*")).Select(key => key[head.Length..])];
    }
}
