using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Coordination.IntegrationTests.Caching;

/// <summary>The cache warming service on real hosts sharing one redis-server: one warming node at a time, hand-over, hot keys.</summary>
public sealed class CacheWarmingTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    private static KeyValuePair<string, string?>[] Settings(string interval = "00:00:00.200", int hotKeys = 100) =>
    [
        new("Coordination:Cache:Warming:HotKeyInterval", interval),
        new("Coordination:Cache:Warming:HotKeyCount", hotKeys.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        new("Coordination:Cache:Warming:SampleRate", "1"),
        new("Coordination:Cache:Warming:LockTimeToLive", "00:00:10"), // a hand-over faster than this proves the release
    ];

    private static CacheWarmingService Warming(StrategyHost host) => host.Services.GetRequiredService<CacheWarmingService>();

    [Fact]
    public async Task TwoHostsStart_OneRunsTheWarmers_KeysAreInRedis_AndStoppingItHandsOver()
    {
        var prefix = TestKeys.NewPrefix();
        var runs = 0;
        var loads = 0;
        void Configure(ICoordinationBuilder c) => c
            .WithReadThrough<int>("top:", (key, _) =>
            {
                Interlocked.Increment(ref loads);
                return ValueTask.FromResult(int.Parse(key.AsSpan(4), System.Globalization.CultureInfo.InvariantCulture) * 2);
            })
            .WithCacheWarmer(async (cache, ct) =>
            {
                Interlocked.Increment(ref runs);
                for (var i = 0; i < 50; i++)
                {
                    await cache.RefreshAsync($"top:{i}", ct);
                }

                return 50;
            })
            .WithCacheWarmer(async (cache, ct) =>
            {
                await cache.Cache.SetAsync("bulk", "written by a bulk warmer", cancellationToken: ct);
                throw new InvalidDataException("a broken warmer does not stop the others");
            })
            .WithCacheWarming();

        var started = Stopwatch.StartNew();
        await using var a = await StrategyHost.StartAsync(redis.ConnectionString, prefix, Configure, Settings(), "warm-a");
        await using var b = await StrategyHost.StartAsync(redis.ConnectionString, prefix, Configure, Settings(), "warm-b");
        await using var reader = await StrategyHost.StartAsync(redis.ConnectionString, prefix, _ => { }, hostName: "reader");
        await ProcessUtil.WaitUntilAsync(() => Volatile.Read(ref runs) == 1, TimeSpan.FromSeconds(5), "the warmers to run", Token);
        var warmedAfter = started.Elapsed;
        await Task.Delay(600, Token); // three more intervals: the other node keeps trying, and must not get the lock

        var warmingNode = Warming(a).IsWarmingNode ? a : b;
        var standby = ReferenceEquals(warmingNode, a) ? b : a;
        var runsBeforeHandOver = Volatile.Read(ref runs);
        var inRedis = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => reader.Cache.GetAsync<int>($"top:{i}", Token).AsTask()));
        var bulk = await reader.Cache.GetAsync<string>("bulk", Token);
        var warmDuration = Warming(warmingNode).LastWarmDuration;

        var stop = Stopwatch.StartNew();
        await warmingNode.StopAsync();
        await ProcessUtil.WaitUntilAsync(() => Warming(standby).WarmerRuns == 1, TimeSpan.FromSeconds(5), "the standby node to take over", Token);
        var handOver = stop.Elapsed;

        Output.WriteLine($"[measure] warming: 2 warmers (50 keys through the loader + 1 bulk key) done {warmedAfter.TotalMilliseconds:F0} ms after the first host started; warmers ran in {warmDuration.TotalMilliseconds:F1} ms; hand-over after stop {handOver.TotalMilliseconds:F0} ms (interval 200 ms, lock TTL 10 s)");
        Assert.Equal(1, runsBeforeHandOver);
        Assert.All(Enumerable.Range(0, 50), i => Assert.Equal((i * 2, CacheSource.Redis), (inRedis[i].Value, inRedis[i].Source)));
        Assert.Equal("written by a bulk warmer", bulk.Value);
        Assert.Equal(2, Volatile.Read(ref runs));
        Assert.True(handOver < TimeSpan.FromSeconds(5), $"hand-over took {handOver}");
        Assert.True(Warming(standby).IsWarmingNode);
    }

    [Fact]
    public async Task HotKeysReadOnAnotherNode_AreReloadedByTheWarmingNode()
    {
        var prefix = TestKeys.NewPrefix();
        var loads = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        void Configure(ICoordinationBuilder c) => c
            .WithReadThrough<string>("p:", (key, _) => ValueTask.FromResult($"{key} v{loads.AddOrUpdate(key, 1, (_, n) => n + 1)}"))
            .WithCacheWarming();

        await using var a = await StrategyHost.StartAsync(redis.ConnectionString, prefix, Configure, Settings("00:00:00.300", hotKeys: 2), "hot-a");
        await ProcessUtil.WaitUntilAsync(() => Warming(a).IsWarmingNode, TimeSpan.FromSeconds(5), "host a to become the warming node", Token);
        await using var b = await StrategyHost.StartAsync(redis.ConnectionString, prefix, Configure, Settings("00:00:00.300", hotKeys: 2), "hot-b");

        // Read on the node that does not warm: its counts reach the warming node through Redis.
        var reads = Stopwatch.StartNew();
        for (var i = 0; i < 50; i++)
        {
            await b.Backed.GetAsync<string>("p:hottest", Token);
            if (i < 30)
            {
                await b.Backed.GetAsync<string>("p:hot", Token);
            }

            if (i < 3)
            {
                await b.Backed.GetAsync<string>("p:cold", Token);
            }

            await b.Cache.GetAsync<string>("no-loader", Token); // read most, but nothing could reload it
        }

        Output.WriteLine($"[measure] 133 reads with every read sampled: {reads.Elapsed.TotalMilliseconds:F1} ms");
        var rewarm = Stopwatch.StartNew();
        await ProcessUtil.WaitUntilAsync(() => loads.GetValueOrDefault("p:hottest") >= 2 && loads.GetValueOrDefault("p:hot") >= 2, TimeSpan.FromSeconds(5), "the hot keys to be reloaded", Token);
        var rewarmedAfter = rewarm.Elapsed;
        await ProcessUtil.WaitUntilAsync(async () => (await b.Backed.GetAsync<string>("p:hottest", Token)).Value != "p:hottest v1", TimeSpan.FromSeconds(5), "the reloaded value to reach the reading node", Token);

        Output.WriteLine($"[measure] hot keys reloaded {rewarmedAfter.TotalMilliseconds:F0} ms after the reads (interval 300 ms); loads: {string.Join(", ", loads.OrderBy(e => e.Key).Select(e => $"{e.Key}={e.Value}"))}");
        Assert.Equal(1, loads["p:cold"]); // not among the 2 hottest
        Assert.Equal(1, Warming(b).WarmerRuns + Warming(a).WarmerRuns);
        Assert.True(Warming(a).HotRounds >= 1);
        Assert.Equal(0, Warming(b).HotRounds);
    }

    [Fact]
    public async Task HostStarted_ReadsAreSampledFromTheFirst()
    {
        // .NET runs a background service's ExecuteAsync on the thread pool after the host has started: sampling set up
        // there missed the reads of the host's first moments.
        await using var host = await StrategyHost.StartAsync(redis.ConnectionString, TestKeys.NewPrefix(), c => c.WithCacheWarming(), Settings(hotKeys: 2), "sampled");

        Assert.NotNull(host.Cache.HotKeys);
    }

    [Fact]
    public async Task InvalidOptions_FailTheStart()
    {
        var ex = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => StrategyHost.StartAsync(
            redis.ConnectionString,
            TestKeys.NewPrefix(),
            c => c.WithCacheWarming(o => o.SampleRate = 0)));

        Assert.Contains("SampleRate", ex.Message, StringComparison.Ordinal);
    }
}
