using System.Diagnostics;
using System.Diagnostics.Metrics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Caching;

/// <summary>Hot-key reports and warm-on-start (<c>WithHotKeyWarming</c>) on real hosts sharing one redis-server.</summary>
public sealed class HotKeyWarmingTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    private static KeyValuePair<string, string?>[] Settings(int keysPerTenant = 10, int maxTenants = 100, int trackedKeys = 1024, int tenantsPerReport = 100) =>
    [
        new("Coordination:Cache:HotKeys:ReportInterval", "00:00:00.100"),
        new("Coordination:Cache:HotKeys:SampleRate", "1"),
        new("Coordination:Cache:HotKeys:KeysPerTenant", keysPerTenant.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Coordination:Cache:HotKeys:MaxTenants", maxTenants.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Coordination:Cache:HotKeys:TrackedKeys", trackedKeys.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Coordination:Cache:HotKeys:TenantsPerReport", tenantsPerReport.ToString(System.Globalization.CultureInfo.InvariantCulture)),
    ];

    private static ICacheManager Cache(StrategyHost host, string tenant) => host.Services.GetRequiredService<ICoordinatorFactory>().ForTenant(tenant).Cache;

    private static HotKeyReports Reports(StrategyHost host) => host.Services.GetRequiredService<HotKeyReports>();

    [Fact]
    public async Task RestartedHost_FirstReadsOfTheHotKeys_AreMemoryHits()
    {
        var prefix = TestKeys.NewPrefix();
        string[] tenants = ["shop-1", "shop-2"];
        var before = await StrategyHost.StartAsync(redis.ConnectionString, prefix, c => c.WithHotKeyWarming<string>(), Settings(), "before-restart");
        foreach (var tenant in tenants)
        {
            var cache = Cache(before, tenant);
            for (var i = 0; i < 40; i++)
            {
                await cache.SetAsync($"item:{i}", $"{tenant} value {i}", new CacheEntryOptions { TimeToLive = TimeSpan.FromMinutes(5) }, Token);
            }

            // Ten hot keys read 100 times each; thirty cold ones once. (Sampling counts down per thread, shared by every
            // cache of the process, and other tests' hosts sample one read in 16 or 64: enough reads that each hot key
            // is surely counted.)
            for (var round = 0; round < 100; round++)
            {
                for (var i = 0; i < 10; i++)
                {
                    await cache.GetAsync<string>($"item:{i}", Token);
                }
            }

            for (var i = 10; i < 40; i++)
            {
                await cache.GetAsync<string>($"item:{i}", Token);
            }
        }

        // The host stops (a deploy): its last counts are reported on the way out.
        var beforeReporter = before.Services.GetServices<IHostedService>().OfType<HotKeyReporter>().Single();
        using (var reported = new Measurements(before.Services.GetRequiredService<CoordinationMetrics>().Meter, "coordination.cache.hotkeys.reported"))
        {
            await before.StopAsync();
            Output.WriteLine($"[measure] before the restart: {beforeReporter.Rounds} reports, {reported.Snapshot().Sum(m => m.Value)} keys reported");
        }

        var db = (await redis.GetAdminAsync()).GetDatabase();
        var reports = new HotKeyReports(null!, prefix, new HotKeyWarmingOptions());
        foreach (var tenant in tenants)
        {
            var hottest = (await db.SortedSetRangeByRankAsync(reports.TenantKey(tenant), 0, -1, Order.Descending)).Select(v => (string)v!).ToArray();
            Assert.Equal(Enumerable.Range(0, 10).Select(i => $"item:{i}").Order(), hottest.Order());
        }

        var started = Stopwatch.StartNew();
        await using var after = await StrategyHost.StartAsync(redis.ConnectionString, prefix, c => c.WithHotKeyWarming<string>(), Settings(), "after-restart");
        var startup = started.Elapsed;
        var warmup = after.Services.GetServices<IHostedService>().OfType<HotKeyWarmup<string>>().Single();
        using var requests = new Measurements(after.Services.GetRequiredService<CoordinationMetrics>().Meter, "coordination.cache.requests");

        var sources = new List<CacheSource>();
        foreach (var tenant in tenants)
        {
            for (var i = 0; i < 10; i++)
            {
                var read = await Cache(after, tenant).GetAsync<string>($"item:{i}", Token);
                Assert.Equal($"{tenant} value {i}", read.Value);
                sources.Add(read.Source);
            }
        }

        var l1 = requests.Snapshot().Where(m => m.Tag("coordination.cache.level") == "l1").ToArray();
        var hits = l1.Count(m => m.Tag("coordination.cache.result") == "hit");
        var misses = l1.Count(m => m.Tag("coordination.cache.result") == "miss");

        // A cold key was not warmed: its first read goes to Redis (so the hits above are the warming's doing).
        var cold = await Cache(after, "shop-1").GetAsync<string>("item:30", Token);

        Output.WriteLine($"[measure] warm-on-start: {warmup.Warmed} keys of 2 tenants warmed in {warmup.Elapsed.TotalMilliseconds:F1} ms (host start {startup.TotalMilliseconds:F0} ms); first reads of the 20 hot keys: {hits} memory hits, {misses} memory misses");
        Assert.Equal(20, warmup.Warmed);
        Assert.All(sources, s => Assert.Equal(CacheSource.Memory, s));
        Assert.Equal(20, hits);
        Assert.Equal(0, misses);
        Assert.Equal(CacheSource.Redis, cold.Source);
    }

    [Fact]
    public async Task HostStopsWhileAReportWaitsForRedis_TheReportStillLands()
    {
        await using var server = await RedisServer.StartAsync(Token);
        var prefix = TestKeys.NewPrefix();
        var host = await StrategyHost.StartAsync(server.ConnectionString, prefix, c => c.WithHotKeyWarming<string>(), Settings(), "stopping");
        var cache = Cache(host, "shop");
        for (var i = 0; i < 10; i++)
        {
            await cache.SetAsync($"item:{i}", "value", new CacheEntryOptions { TimeToLive = TimeSpan.FromMinutes(5) }, Token);
        }

        // Redis hangs; the reads are memory hits, and the next report drains their counts and waits for Redis.
        var reporter = host.Services.GetServices<IHostedService>().OfType<HotKeyReporter>().Single();
        var reportsBefore = reporter.Rounds;
        await server.PauseAsync();
        for (var round = 0; round < 20; round++)
        {
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(CacheSource.Memory, (await cache.GetAsync<string>($"item:{i}", Token)).Source);
            }
        }

        await Task.Delay(TimeSpan.FromMilliseconds(300), Token);
        var stopping = host.StopAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(100), Token);
        await server.ResumeAsync();
        await stopping;
        await host.DisposeAsync();

        var db = (await server.GetAdminAsync()).GetDatabase();
        var reports = new HotKeyReports(null!, prefix, new HotKeyWarmingOptions());
        var hottest = (await db.SortedSetRangeByRankAsync(reports.TenantKey("shop"), 0, -1, Order.Descending)).Select(v => (string)v!).ToArray();
        Output.WriteLine($"[measure] reports before the pause: {reportsBefore}, after the stop: {reporter.Rounds}; keys listed: {hottest.Length}");
        Assert.Equal(Enumerable.Range(0, 10).Select(i => $"item:{i}").Order(), hottest.Order());
    }

    [Fact]
    public async Task HostileTraffic_ManyTenantsAndKeys_ReportsStayWithinTheirBounds()
    {
        var prefix = TestKeys.NewPrefix();
        await using var host = await StrategyHost.StartAsync(
            redis.ConnectionString, prefix, c => c.WithHotKeyWarming<string>(), Settings(keysPerTenant: 10, maxTenants: 5, trackedKeys: 50, tenantsPerReport: 3), "hostile");
        using var refused = new Measurements(host.Services.GetRequiredService<CoordinationMetrics>().Meter, "coordination.cache.hotkeys.refused");
        var reporter = host.Services.GetServices<IHostedService>().OfType<HotKeyReporter>().Single();

        // 20 tenants, 500 distinct keys each (absent keys count as reads too), over several report intervals. Five
        // other tenants are the busiest in each wave (each key read three times), so reports name more tenants than
        // Redis may list: with equal counts the same few tenants would top every report.
        for (var wave = 0; wave < 4; wave++)
        {
            var rounds = reporter.Rounds;
            await Parallel.ForEachAsync(Enumerable.Range(0, 20), Token, async (t, ct) =>
            {
                var cache = Cache(host, $"flood-{t}");
                var readsPerKey = t / 5 == wave ? 3 : 1;
                for (var k = 0; k < 500; k++)
                {
                    for (var r = 0; r < readsPerKey; r++)
                    {
                        await cache.GetAsync<string>($"key-{wave}-{k}", ct);
                    }
                }
            });
            await ProcessUtil.WaitUntilAsync(() => reporter.Rounds >= rounds + 2, TimeSpan.FromSeconds(10), "two reports", Token);
        }

        var db = (await redis.GetAdminAsync()).GetDatabase();
        var reports = Reports(host);
        var listed = await db.SortedSetLengthAsync(reports.TenantsKey);
        var tenantKeys = (await redis.KeysAsync($"{prefix}:#hotkeys:*:tenant:*")).ToArray();
        var sizes = await Task.WhenAll(tenantKeys.Select(k => db.SortedSetLengthAsync(k)));
        var ttls = await Task.WhenAll(tenantKeys.Append(reports.TenantsKey).Append(reports.HalvedKey).Select(k => db.KeyTimeToLiveAsync(k)));

        Output.WriteLine($"[measure] hostile: 20 tenants x 2000 keys read (five of them three times in each wave); Redis lists {listed} tenants, {tenantKeys.Length} key tables of sizes [{string.Join(", ", sizes)}]; {refused.Snapshot().Sum(m => m.Value)} reports refused");
        Assert.InRange(listed, 1, 5);
        Assert.InRange(tenantKeys.Length, 1, 5);
        Assert.All(sizes, size => Assert.InRange(size, 1, 10));
        Assert.All(ttls, ttl => Assert.True(ttl is { } t && t > TimeSpan.Zero && t <= TimeSpan.FromHours(1), $"TTL {ttl}"));
        Assert.True(refused.Snapshot().Sum(m => m.Value) > 0);

        // The script itself reads at most KeysPerTenant pairs of a report, whatever a caller sends.
        var flood = Enumerable.Range(0, 1000).Select(i => new KeyValuePair<string, long>($"x{i}", 5)).ToArray();
        var listedTenant = (string)(await db.SortedSetRangeByRankAsync(reports.TenantsKey, 0, 0))[0]!;
        Assert.Equal(10, await reports.ReportAsync(listedTenant, flood, Token));
        Assert.Equal(-1, await reports.ReportAsync("one-more-tenant", flood, Token));
        Assert.InRange(await db.SortedSetLengthAsync(reports.TenantKey(listedTenant)), 1, 10);
    }

    [Fact]
    public async Task Counts_HalveEveryHalfLife_ByRedisClock()
    {
        var prefix = TestKeys.NewPrefix();
        await using var host = await StrategyHost.StartAsync(
            redis.ConnectionString, prefix, c => c.WithHotKeyWarming<string>(o => o.HalfLife = TimeSpan.FromSeconds(1)), Settings(), "halving");
        var reports = Reports(host);
        var db = (await redis.GetAdminAsync()).GetDatabase();

        await reports.ReportAsync("t", [new("old", 1000)], Token);
        await Task.Delay(2200, Token); // two half-lives and a bit (up to 0.8 s of slack): the next report halves twice, not more
        await reports.ReportAsync("t", [new("new", 10)], Token);

        Assert.Equal(250, await db.SortedSetScoreAsync(reports.TenantKey("t"), "old"));
        Assert.Equal(10, await db.SortedSetScoreAsync(reports.TenantKey("t"), "new"));
    }

    /// <summary>The long measurements of one instrument of one meter (this host's, not another test's).</summary>
    private sealed class Measurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly System.Collections.Concurrent.ConcurrentQueue<Measurement> _seen = new();

        public Measurements(Meter meter, string instrument)
        {
            _listener.InstrumentPublished = (i, l) =>
            {
                if (ReferenceEquals(i.Meter, meter) && i.Name == instrument)
                {
                    l.EnableMeasurementEvents(i);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) => _seen.Enqueue(new Measurement(value, tags.ToArray())));
            _listener.Start();
        }

        public Measurement[] Snapshot() => [.. _seen];

        public void Dispose() => _listener.Dispose();
    }

    private sealed record Measurement(long Value, KeyValuePair<string, object?>[] Tags)
    {
        public string? Tag(string name) => Tags.FirstOrDefault(t => t.Key == name).Value as string;
    }
}
