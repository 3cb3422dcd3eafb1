using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// Tag and prefix stamps: bounded per tenant in Redis and on every replica, folded into a floor when evicted (an
/// invalidated entry never comes back), stamps of earlier versions honoured, tags capped per call and per entry, and
/// one tenant's flood of invalidations harmless to the others.
/// </summary>
public sealed class InvalidationStampTests(SharedRedisFixture redis)
{
    private static readonly TimeSpan Hour = TimeSpan.FromHours(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    /// <summary>
    /// The finding's traffic: 5,000 invalidations of 32 fresh 500-character tags by one tenant, while another tenant
    /// uses its cache on the same Redis. The flood has its own redis-server, so a Redis it blocks blocks no other test.
    /// </summary>
    [Fact]
    public async Task InvalidateTagsAsync_FloodOfFreshTagsByOneTenant_StampsStayBoundedAndOtherTenantStaysCorrectAndFast()
    {
        const int Invalidations = 5_000;
        const int TagsPerCall = 32;
        const int Bound = 10_000; // The default of MaxStampsPerTenant.
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 2);
        var circuitOpenings = 0;
        for (var i = 0; i < hosts.Count; i++)
        {
            hosts[i].Events.CircuitOpened += (_, _) => Interlocked.Increment(ref circuitOpenings);
        }

        var attacker = hosts[0].Factory.ForTenant("attacker").Cache;
        var attackerOnSecond = hosts[1].Factory.ForTenant("attacker").Cache;
        var tenant = hosts[0].Factory.ForTenant("tenant").Cache;
        var tenantOnSecond = hosts[1].Factory.ForTenant("tenant").Cache;

        // An entry of the attacker invalidated before the flood, held in the second replica's memory level: the flood
        // evicts its stamp, and it must stay invalid everywhere.
        await attacker.SetAsync("before", 1, new CacheEntryOptions { TimeToLive = Hour, Tags = ["old-tag"] }, Token);
        await ProcessUtil.WaitUntilAsync(async () => (await attackerOnSecond.GetAsync<int>("before", Token)).Source == CacheSource.Memory, TimeSpan.FromSeconds(5), "the second replica to hold the entry in memory", Token);
        await attacker.InvalidateTagsAsync(["old-tag"], Token);
        await ProcessUtil.WaitUntilAsync(async () => !(await attackerOnSecond.GetAsync<int>("before", Token)).HasValue, TimeSpan.FromSeconds(5), "the invalidation to reach the second replica", Token);

        using var flooding = CancellationTokenSource.CreateLinkedTokenSource(Token);
        flooding.CancelAfter(TimeSpan.FromSeconds(120));
        var sent = 0;
        var floodFailures = 0;
        var floodTime = Stopwatch.StartNew();
        var flood = Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref sent) <= Invalidations && !flooding.IsCancellationRequested)
            {
                var tags = Enumerable.Range(0, TagsPerCall).Select(_ => Guid.NewGuid().ToString("N") + new string('x', 468)).ToArray();
                try
                {
                    await attacker.InvalidateTagsAsync(tags, flooding.Token);
                }
                catch (Exception ex) when (ex is CoordinationUnavailableException or OperationCanceledException)
                {
                    Interlocked.Increment(ref floodFailures);
                }
            }
        }, Token)));

        // The other tenant, meanwhile: writes, reads on both replicas, tag invalidations; every answer checked and timed.
        var latencies = new List<double>();
        var wrong = new List<string>();
        var round = 0;
        var watch = new Stopwatch();
        async Task TimeAsync(Func<Task> call)
        {
            watch.Restart();
            try
            {
                await call();
            }
            catch (Exception ex) when (ex is CoordinationException or TimeoutException)
            {
                wrong.Add($"round {round}: {ex.GetType().Name}: {ex.Message}");
            }

            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }

        while (!flood.IsCompleted || round < 50)
        {
            round++;
            var key = $"k{round}";
            var tag = $"tag{round}"; // Never stamped before its entry is written (a stamp covers its own millisecond).
            await TimeAsync(() => tenant.SetAsync(key, round, new CacheEntryOptions { TimeToLive = Hour, Tags = [tag] }, Token).AsTask());
            await TimeAsync(async () => Check(await tenant.GetAsync<int>(key, Token), round, $"round {round}: own read"));
            await TimeAsync(async () => Check(await tenantOnSecond.GetAsync<int>(key, Token), round, $"round {round}: second replica's read"));
            if (round % 10 == 0)
            {
                await TimeAsync(() => tenant.InvalidateTagsAsync([tag], Token).AsTask());
                await TimeAsync(async () => Check(await tenant.GetAsync<int>(key, Token), null, $"round {round}: read after invalidating its tag"));
            }
        }

        void Check(CacheResult<int> result, int? expected, string what)
        {
            if (result.HasValue != expected.HasValue || (expected is { } value && result.Value != value))
            {
                wrong.Add($"{what}: {(result.HasValue ? result.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : "miss")}, expected {expected?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "miss"}");
            }
        }

        await flood;
        floodTime.Stop();
        latencies.Sort();
        var p99 = latencies[(int)(latencies.Count * 0.99)];
        var admin = (await server.GetAdminAsync()).GetDatabase();
        var stampCount = await StoredStampCountAsync(admin, hosts.KeyPrefix, "attacker");
        Output.WriteLine($"[measure] flood of {Math.Min(sent, Invalidations)} x {TagsPerCall} fresh 500-char tags in {floodTime.Elapsed.TotalSeconds:F1} s, {floodFailures} failed; other tenant: {latencies.Count} calls, p50 {latencies[latencies.Count / 2]:F1} ms, p99 {p99:F1} ms, max {latencies[^1]:F1} ms; stored stamps of the flooding tenant: {stampCount}");

        Assert.False(flooding.IsCancellationRequested, $"The flood did not finish within 120 s ({Math.Min(sent, Invalidations)} of {Invalidations} calls sent).");
        Assert.Equal(0, floodFailures);
        Assert.InRange(stampCount, 1, Bound);
        Assert.Empty(wrong);
        Assert.Equal(0, Volatile.Read(ref circuitOpenings));
        Assert.True(p99 < 250, $"The other tenant's p99 was {p99:F1} ms.");

        // The entry invalidated before the flood stays invalid: on the replica that held it, and on a fresh one that
        // loads the stamps (whose stamp for 'old-tag' was folded into the floor).
        Assert.Null(await admin.SortedSetScoreAsync(StampsKey(hosts.KeyPrefix, "attacker"), "t:old-tag"));
        Assert.False((await attackerOnSecond.GetAsync<int>("before", Token)).HasValue);
        var third = await hosts.AddAsync(server.ConnectionString);
        Assert.False((await third.Factory.ForTenant("attacker").Cache.GetAsync<int>("before", Token)).HasValue);

        // The floor does not touch what the attacker writes afterwards (in a later millisecond than every stamp).
        await Task.Delay(5, Token);
        await attacker.SetAsync("after", 2, new CacheEntryOptions { TimeToLive = Hour }, Token);
        Assert.Equal(2, (await third.Factory.ForTenant("attacker").Cache.GetAsync<int>("after", Token)).Value);
    }

    [Fact]
    public async Task InvalidateAsync_MoreNamesThanTheBound_FoldsTheOldestIntoAFloorOnEveryReplica()
    {
        const int Bound = 20;
        KeyValuePair<string, string?>[] settings = [new("Coordination:Cache:MaxStampsPerTenant", "20"), new("Coordination:Cache:MaxTagsPerInvalidation", "4")];
        await using var hosts = await CacheHosts.StartAsync(redis.Server.ConnectionString, 2, settings);
        var (first, second) = (hosts.Cache(0), hosts.Cache(1));
        await first.SetAsync("tagged", 1, new CacheEntryOptions { TimeToLive = Hour, Tags = ["old"] }, Token);
        await first.SetAsync("orders/1", 2, new CacheEntryOptions { TimeToLive = Hour }, Token);
        await first.SetAsync("kept", 3, new CacheEntryOptions { TimeToLive = Hour, Tags = ["other"] }, Token);
        Assert.Equal(1, (await second.GetAsync<int>("tagged", Token)).Value); // The second replica has loaded the stamps.
        await first.InvalidateTagsAsync(["old"], Token);
        await first.InvalidateByPrefixAsync("orders/", Token);

        for (var i = 0; i < 100; i++)
        {
            await first.InvalidateTagsAsync([$"fresh-{i}"], Token);
        }

        // Written after the floor moved past it (a later millisecond), an entry is served: the floor covers older ones only.
        await Task.Delay(5, Token);
        await first.SetAsync("orders/2", 4, new CacheEntryOptions { TimeToLive = Hour, Tags = ["old"] }, Token);
        await ProcessUtil.WaitUntilAsync(() => second.Stamps.Count > 0 && second.Stamps.Floor > 0 && (second.Stamps.Count == Bound), TimeSpan.FromSeconds(5), "the second replica to apply the invalidations", Token);

        var admin = (await redis.Server.GetAdminAsync()).GetDatabase();
        var stored = await StoredStampCountAsync(admin, hosts.KeyPrefix, "default");
        var floor = (long)await admin.StringGetAsync(FloorKey(hosts.KeyPrefix, "default"));
        var third = (RedisCacheManager)(await hosts.AddAsync(redis.Server.ConnectionString, settings)).Factory.ForTenant("default").Cache;
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
        await using var hosts = await CacheHosts.StartAsync(redis.Server.ConnectionString, 1, settings);
        var admin = (await redis.Server.GetAdminAsync()).GetDatabase();
        var writer = hosts.Cache(0);
        await writer.SetAsync("small", 1, new CacheEntryOptions { TimeToLive = Hour, Tags = ["legacy"] }, Token);
        await writer.SetAsync("kept", 2, new CacheEntryOptions { TimeToLive = Hour, Tags = ["unrelated"] }, Token);
        var legacyKey = $"{hosts.KeyPrefix}:default:cache-stamps";
        var now = await RedisNowMsAsync(admin);
        await admin.HashSetAsync(legacyKey, [new("t:legacy", now), new("p:gone/", now)]);

        // A replica of the new version that starts after the deploy reads the old stamps.
        var reader = (RedisCacheManager)(await hosts.AddAsync(redis.Server.ConnectionString, settings)).Factory.ForTenant("default").Cache;
        Assert.False((await reader.GetAsync<int>("small", Token)).HasValue);
        Assert.Equal(2, (await reader.GetAsync<int>("kept", Token)).Value);
        Assert.False(await admin.KeyExistsAsync(legacyKey));
        Assert.Equal(now, (long)(await admin.SortedSetScoreAsync(StampsKey(hosts.KeyPrefix, "default"), "t:legacy"))!);

        // Too large to copy within the bound: everything stamped before the migration counts as invalidated.
        await writer.SetAsync("big", 3, new CacheEntryOptions { TimeToLive = Hour }, Token);
        await admin.HashSetAsync(legacyKey, [.. Enumerable.Range(0, 6).Select(i => new HashEntry($"t:t{i}", now))]);
        await writer.InvalidateTagsAsync(["any"], Token);
        var fresh = (RedisCacheManager)(await hosts.AddAsync(redis.Server.ConnectionString, settings)).Factory.ForTenant("default").Cache;
        Assert.False((await fresh.GetAsync<int>("big", Token)).HasValue);
        Assert.False((await fresh.GetAsync<int>("kept", Token)).HasValue);
        Assert.False(await admin.KeyExistsAsync(legacyKey));
        Assert.True((long)await admin.StringGetAsync(FloorKey(hosts.KeyPrefix, "default")) >= now);
    }

    [Fact]
    public async Task InvalidateTagsAsync_MoreTagsThanTheCap_ThrowsArgumentException()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.Server.ConnectionString, 1);
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

    private static RedisKey StampsKey(string prefix, string tenant) => $"{{{prefix}:{tenant}:cache-stamps}}:stamps";

    private static RedisKey FloorKey(string prefix, string tenant) => $"{{{prefix}:{tenant}:cache-stamps}}:floor";

    // Whatever holds the stamps: the sorted set, plus the hash earlier versions kept them in.
    private static async Task<long> StoredStampCountAsync(IDatabase admin, string prefix, string tenant) =>
        await admin.SortedSetLengthAsync(StampsKey(prefix, tenant)) + await admin.HashLengthAsync($"{prefix}:{tenant}:cache-stamps");

    private static async Task<long> RedisNowMsAsync(IDatabase admin)
    {
        var time = (RedisResult[])(await admin.ExecuteAsync("TIME"))!;
        return ((long)time[0] * 1000) + ((long)time[1] / 1000);
    }
}
