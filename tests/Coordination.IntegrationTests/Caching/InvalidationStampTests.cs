using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// Tag and prefix stamps: bounded per tenant in Redis and on every replica, folded into a floor when evicted (an
/// invalidated entry never comes back), stamps of earlier versions honoured, tags capped per call and per entry. The
/// flood of invalidations is <see cref="InvalidationStampFloodTests"/>.
/// </summary>
public sealed class InvalidationStampTests(SharedRedisFixture redis)
{
    internal static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task InvalidateAsync_MoreNamesThanTheBound_FoldsTheOldestIntoAFloorOnEveryReplica()
    {
        const int Bound = 20;
        KeyValuePair<string, string?>[] settings = [new("Coordination:Cache:MaxStampsPerTenant", "20"), new("Coordination:Cache:MaxTagsPerInvalidation", "4")];
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 2, settings);
        var (first, second) = (hosts.Cache(0), hosts.Cache(1));
        await first.SetAsync("tagged", 1, new CacheEntryOptions { TimeToLive = Hour, Tags = ["old"] }, Token);
        await first.SetAsync("orders/1", 2, new CacheEntryOptions { TimeToLive = Hour }, Token);
        await first.SetAsync("kept", 3, new CacheEntryOptions { TimeToLive = Hour, Tags = ["other"] }, Token);
        Assert.Equal(1, (await second.GetAsync<int>("tagged", Token)).Value); // The second replica has loaded the stamps.
        await first.InvalidateTagsAsync(["old"], Token);
        await first.InvalidateByPrefixAsync("orders/", Token);

        for (var i = 0; i < 100; i++)
        {
            // The stamps that stay must be later than the floor the older ones fold into: a stamp in the floor's own
            // millisecond is covered by it, and a replica that loads the stamps rightly keeps none of those.
            if (i >= 100 - Bound)
            {
                await Task.Delay(2, Token);
            }

            await first.InvalidateTagsAsync([$"fresh-{i}"], Token);
        }

        // Written after the floor moved past it (a later millisecond), an entry is served: the floor covers older ones only.
        await Task.Delay(5, Token);
        await first.SetAsync("orders/2", 4, new CacheEntryOptions { TimeToLive = Hour, Tags = ["old"] }, Token);
        await ProcessUtil.WaitUntilAsync(() => second.Stamps.Count > 0 && second.Stamps.Floor > 0 && (second.Stamps.Count == Bound), TimeSpan.FromSeconds(5), "the second replica to apply the invalidations", Token);

        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var stored = await StoredStampCountAsync(admin, hosts.KeyPrefix, "default");
        var floor = (long)await admin.StringGetAsync(FloorKey(hosts.KeyPrefix, "default"));
        var third = (RedisCacheManager)(await hosts.AddAsync(redis.ConnectionString, settings)).Factory.ForTenant("default").Cache;
        Assert.False((await third.GetAsync<int>("tagged", Token)).HasValue);
        // A replica that starts loads the stamps in the background after a read, until a load succeeds: read while
        // waiting for them, bounded.
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                await third.GetAsync<int>("tagged", Token);
                return third.Stamps.Count > 0;
            },
            TimeSpan.FromSeconds(5),
            "the new replica to load the stamps",
            Token);
        foreach (var cache in new[] { first, second, third })
        {
            Assert.False((await cache.GetAsync<int>("tagged", Token)).HasValue);
            Assert.False((await cache.GetAsync<int>("orders/1", Token)).HasValue);
            Assert.False((await cache.GetAsync<int>("kept", Token)).HasValue); // Over-invalidated by the floor: allowed.
            Assert.Equal(4, (await cache.GetAsync<int>("orders/2", Token)).Value);
            Assert.InRange(cache.Stamps.Count, 1, Bound);
        }

        Assert.Equal(Bound, stored);
        Assert.True(floor > 0 && first.Stamps.Floor >= floor, $"Redis's floor {floor}, the first replica's {first.Stamps.Floor}");
        Assert.Equal(floor, third.Stamps.Floor);
        Assert.True(await admin.KeyTimeToLiveAsync(StampsKey(hosts.KeyPrefix, "default")) is { } ttl && ttl > TimeSpan.FromDays(60), "The stamps expire after the retention.");
    }

    [Fact]
    public async Task ReadAsync_StampHashOfAnEarlierVersion_IsHonouredAndMigrated()
    {
        KeyValuePair<string, string?>[] settings = [new("Coordination:Cache:MaxStampsPerTenant", "5"), new("Coordination:Cache:MaxTagsPerInvalidation", "4")];
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1, settings);
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var writer = hosts.Cache(0);
        await writer.SetAsync("small", 1, new CacheEntryOptions { TimeToLive = Hour, Tags = ["legacy"] }, Token);
        await writer.SetAsync("kept", 2, new CacheEntryOptions { TimeToLive = Hour, Tags = ["unrelated"] }, Token);
        var legacyKey = $"{hosts.KeyPrefix}:default:cache-stamps";
        var now = await RedisNowMsAsync(admin);
        await admin.HashSetAsync(legacyKey, [new("t:legacy", now), new("p:gone/", now)]);

        // A replica of the new version that starts after the deploy reads the old stamps.
        var reader = (RedisCacheManager)(await hosts.AddAsync(redis.ConnectionString, settings)).Factory.ForTenant("default").Cache;
        Assert.False((await reader.GetAsync<int>("small", Token)).HasValue);
        Assert.Equal(2, (await reader.GetAsync<int>("kept", Token)).Value);
        Assert.False(await admin.KeyExistsAsync(legacyKey));
        Assert.Equal(now, (long)(await admin.SortedSetScoreAsync(StampsKey(hosts.KeyPrefix, "default"), "t:legacy"))!);

        // Too large to copy within the bound: everything stamped before the migration counts as invalidated.
        await writer.SetAsync("big", 3, new CacheEntryOptions { TimeToLive = Hour }, Token);
        await admin.HashSetAsync(legacyKey, [.. Enumerable.Range(0, 6).Select(i => new HashEntry($"t:t{i}", now))]);
        await writer.InvalidateTagsAsync(["any"], Token);
        var fresh = (RedisCacheManager)(await hosts.AddAsync(redis.ConnectionString, settings)).Factory.ForTenant("default").Cache;
        Assert.False((await fresh.GetAsync<int>("big", Token)).HasValue);
        Assert.False((await fresh.GetAsync<int>("kept", Token)).HasValue);
        Assert.False(await admin.KeyExistsAsync(legacyKey));
        Assert.True((long)await admin.StringGetAsync(FloorKey(hosts.KeyPrefix, "default")) >= now);
    }

    [Fact]
    public async Task InvalidateTagsAsync_MoreTagsThanTheCap_ThrowsArgumentException()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1);
        var cache = hosts[0].Coordinator.Cache;
        var tooMany = Enumerable.Range(0, 33).Select(i => $"t{i}").ToArray();

        var invalidate = await Assert.ThrowsAsync<ArgumentException>(() => cache.InvalidateTagsAsync(tooMany, Token).AsTask());
        var set = await Assert.ThrowsAsync<ArgumentException>(() => cache.SetAsync("k", 1, new CacheEntryOptions { Tags = tooMany }, Token).AsTask());
        // At the cap both are accepted (and a stamp in the same millisecond as the write would hide it: write first).
        await cache.SetAsync("k", 1, new CacheEntryOptions { Tags = tooMany[..32] }, Token);
        var written = await cache.GetAsync<int>("k", Token);
        await cache.InvalidateTagsAsync(tooMany[..32], Token);

        Assert.Equal("tags", invalidate.ParamName);
        Assert.Equal("tags", set.ParamName);
        Assert.Equal(1, written.Value);
        Assert.False((await cache.GetAsync<int>("k", Token)).HasValue);
    }

    internal static RedisKey StampsKey(string prefix, string tenant) => $"{{{prefix}:{tenant}:cache-stamps}}:stamps";

    internal static RedisKey FloorKey(string prefix, string tenant) => $"{{{prefix}:{tenant}:cache-stamps}}:floor";

    // Whatever holds the stamps: the sorted set, plus the hash earlier versions kept them in.
    internal static async Task<long> StoredStampCountAsync(IDatabase admin, string prefix, string tenant) =>
        await admin.SortedSetLengthAsync(StampsKey(prefix, tenant)) + await admin.HashLengthAsync($"{prefix}:{tenant}:cache-stamps");

    private static async Task<long> RedisNowMsAsync(IDatabase admin)
    {
        var time = (RedisResult[])(await admin.ExecuteAsync("TIME"))!;
        return ((long)time[0] * 1000) + ((long)time[1] / 1000);
    }
}
