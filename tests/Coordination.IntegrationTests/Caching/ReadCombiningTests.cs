using Microsoft.Extensions.DependencyInjection;
using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// Redis reads (cache entries and key/value GETs) combined into MGETs under load: every caller gets its own key's
/// value, a caller's cancellation and a Redis outage reach only the callers they concern, and a lone reader is never
/// combined.
/// </summary>
public sealed class ReadCombiningTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    // No memory level: every read is a Redis read.
    private static readonly KeyValuePair<string, string?>[] RedisOnly = [new("Coordination:Cache:MemoryTimeToLive", "00:00:00")];

    [Fact]
    public async Task GetAsync_ManyConcurrentReaders_EachGetsItsOwnKeysValue_AndReadsAreCombined()
    {
        const int Keys = 500;
        const int Readers = 64;
        const int ReadsPerReader = 400;
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1, RedisOnly);
        var cache = hosts.Cache(0);
        for (var i = 0; i < Keys; i++)
        {
            await cache.SetAsync($"item-{i}", $"value-{i}", cancellationToken: Token);
        }

        var wrong = new ConcurrentQueue<string>();
        long misses = 0;
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, Readers).Select(reader => Task.Run(
            async () =>
            {
                for (var n = 0; n < ReadsPerReader; n++)
                {
                    var index = ((reader * 7_919) + (n * 31)) % Keys;
                    var result = await cache.GetAsync<string>($"item-{index}", Token);
                    if (!result.HasValue)
                    {
                        Interlocked.Increment(ref misses);
                    }
                    else if (result.Value != $"value-{index}" || result.Source != CacheSource.Redis)
                    {
                        wrong.Enqueue($"item-{index} -> {result.Value} ({result.Source})");
                    }
                }
            },
            Token)));
        var elapsed = Stopwatch.GetElapsedTime(started);

        var combined = cache.Runtime.Reads.CombinedReads;
        Output.WriteLine($"{Readers * ReadsPerReader:N0} reads by {Readers} readers in {elapsed.TotalMilliseconds:0} ms; {combined:N0} went out combined in MGETs");
        Assert.Empty(wrong);
        Assert.Equal(0, misses);
        Assert.True(combined > 0, "64 concurrent readers never had their reads combined.");
    }

    [Fact]
    public async Task KeyValueGetAsync_ManyConcurrentReaders_EachGetsItsOwnKeysValue_AndReadsAreCombined()
    {
        const int Keys = 300;
        const int Readers = 64;
        const int ReadsPerReader = 300;
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        for (var i = 0; i < Keys; i++)
        {
            await host.Coordinator.SetAsync($"kv-{i}", i, cancellationToken: Token);
        }

        var wrong = new ConcurrentQueue<string>();
        await Task.WhenAll(Enumerable.Range(0, Readers).Select(reader => Task.Run(
            async () =>
            {
                for (var n = 0; n < ReadsPerReader; n++)
                {
                    // Every tenth read asks for a key that does not exist: a nil inside an MGET stays a nil.
                    var index = n % 10 == 9 ? -1 : ((reader * 7_919) + (n * 31)) % Keys;
                    var result = await host.Coordinator.GetAsync<int>($"kv-{index}", Token);
                    if (index < 0 ? result.HasValue : !result.HasValue || result.Value != index)
                    {
                        wrong.Enqueue($"kv-{index} -> {(result.HasValue ? result.Value : "nil")}");
                    }
                }
            },
            Token)));

        var combined = host.Services.GetRequiredService<CoordinatorFactory>().Reads.CombinedReads;
        Output.WriteLine($"{Readers * ReadsPerReader:N0} key/value reads by {Readers} readers; {combined:N0} went out combined in MGETs");
        Assert.Empty(wrong);
        Assert.True(combined > 0, "64 concurrent readers never had their reads combined.");
    }

    [Fact]
    public async Task GetAsync_OneReaderAtATime_IsNeverCombined()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1, RedisOnly);
        var cache = hosts.Cache(0);
        await cache.SetAsync("solo", 42, cancellationToken: Token);

        for (var i = 0; i < 200; i++)
        {
            Assert.Equal(42, (await cache.GetAsync<int>("solo", Token)).Value);
        }

        Assert.Equal(0, cache.Runtime.Reads.CombinedReads);
    }

    [Fact]
    public async Task GetAsync_CombiningDisabled_SendsEveryReadAlone()
    {
        await using var hosts = await CacheHosts.StartAsync(
            redis.ConnectionString, 1, [.. RedisOnly, new("Coordination:MaxReadsInFlight", "0")]);
        var cache = hosts.Cache(0);
        await cache.SetAsync("k", "v", cancellationToken: Token);

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => cache.GetAsync<string>("k", Token).AsTask()));

        Assert.All(results, r => Assert.Equal("v", r.Value));
        Assert.Equal(0, cache.Runtime.Reads.CombinedReads);
    }

    [Fact]
    public async Task GetAsync_WaitingReaderCanceled_ThrowsForItOnly()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1, RedisOnly);
        var cache = hosts.Cache(0);
        await cache.SetAsync("k", "v", cancellationToken: Token);

        // While Redis hangs, the first read holds the one read slot; the next ones wait for a combined read.
        await server.PauseAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var first = cache.GetAsync<string>("k", Token).AsTask();
        var canceled = cache.GetAsync<string>("k", cancel.Token).AsTask();
        var other = cache.GetAsync<string>("k", Token).AsTask();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => canceled);
        Assert.False(first.IsCompleted);
        Assert.False(other.IsCompleted);

        await server.ResumeAsync();
        Assert.Equal("v", (await first).Value);
        Assert.Equal("v", (await other).Value);
    }

    [Fact]
    public async Task GetAsync_RedisKilledWhileReadsWait_EveryReaderFailsAsUnavailable()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1, RedisOnly);
        var cache = hosts.Cache(0);
        await cache.SetAsync("k", "v", cancellationToken: Token);

        await server.PauseAsync();
        var reads = Enumerable.Range(0, 20).Select(_ => cache.GetAsync<string>("k", Token).AsTask()).ToArray();
        await server.KillAsync();

        var started = Stopwatch.GetTimestamp();
        foreach (var read in reads)
        {
            await Assert.ThrowsAsync<CoordinationUnavailableException>(() => read);
        }

        // Bounded by the attempt timeout (1 s) plus retries, not left hanging.
        Assert.True(Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(10));
    }
}
