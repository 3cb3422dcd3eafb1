using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Caching;

/// <summary>The tests that measure the process's managed heap: no other test may allocate meanwhile.</summary>
[CollectionDefinition(nameof(HeapMeasuringTests), DisableParallelization = true)]
public sealed class HeapMeasuringTests;

/// <summary>
/// The memory level is charged what its values hold and shared fairly between tenants (issue 12, finding 3): large
/// values that compress well can no longer grow the heap past the limit, and one tenant's flood leaves another's
/// entries in memory.
/// </summary>
[Collection(nameof(HeapMeasuringTests))]
public sealed class CacheMemoryLevelTests(SharedRedisFixture redis)
{
    private const long MiB = 1024 * 1024;

    // 524,287 zeros: a 1 MiB JSON array (1,048,575 bytes) that Brotli stores in a few hundred bytes; parsed as a
    // JsonElement (what the HTTP API caches) it holds about 7 MiB.
    private const int Zeros = 524_287;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task GetAsync_500LargeJsonArraysThroughSecondReplica_HeapStaysUnderLimit_OtherTenantKeepsFastMemoryHits()
    {
        const long limit = 96 * MiB;
        // What the process holds besides the cache: System.Text.Json's parse buffers in the shared array pool (on every
        // thread that parsed such an array, 20-70 MB measured) and the connections' buffers.
        const long margin = 48 * MiB;
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 2, Settings(limit));
        var (writerA, writerB) = (hosts.Cache(0).Runtime.ForTenant("a"), hosts.Cache(0).Runtime.ForTenant("b"));
        var reader = hosts.Cache(1).Runtime;
        var (readerA, readerB) = (reader.ForTenant("a"), reader.ForTenant("b"));

        // Tenant B's working set is in the second replica's memory before the flood.
        for (var i = 0; i < 50; i++)
        {
            await writerB.SetAsync($"b{i}", new Payload($"value {i}", i), cancellationToken: Token);
        }

        for (var i = 0; i < 50; i++)
        {
            var key = $"b{i}";
            await ProcessUtil.WaitUntilAsync(async () => (await readerB.GetAsync<Payload>(key, Token)).Source == CacheSource.Memory, TimeSpan.FromSeconds(5), $"{key} in memory", Token);
        }

        // Tenant A writes 500 such arrays; the writer keeps none in memory, so only the reader's memory grows.
        var zeros = ZerosArray();
        var outOfMemory = new CacheEntryOptions { MemoryTimeToLive = TimeSpan.Zero };
        for (var i = 0; i < 500; i++)
        {
            await writerA.SetAsync($"a{i}", zeros, outOfMemory, Token);
        }

        // Parsing such an array leaves System.Text.Json's growth buffers in the shared array pool (about 20 MB for a
        // thread that parsed one): memory of the runtime, not of the cache; partly filled before the baseline.
        var json = JsonSerializer.SerializeToUtf8Bytes(zeros);
        Parallel.For(0, 4 * Environment.ProcessorCount, _ => JsonSerializer.Deserialize<JsonElement>(json));
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        using var flooding = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var tenantB = ReadTenantBAsync(readerB, flooding.Token);
        long maxHeapGrowth = 0, maxCharged = 0;
        var flood = Stopwatch.StartNew();
        try
        {
            for (var i = 0; i < 500; i++)
            {
                var result = await readerA.GetAsync<JsonElement>($"a{i}", Token);
                Assert.True(result.HasValue, $"a{i} missing");
                Assert.Equal(Zeros, result.Value.GetArrayLength());
                maxCharged = Math.Max(maxCharged, reader.MemoryBytes);
                Assert.True(reader.MemoryBytes <= limit, $"After {i + 1} reads the memory level is charged {reader.MemoryBytes:N0} bytes, over its limit of {limit:N0}.");
                if (i % 50 == 49)
                {
                    result = default; // Not kept alive by the test.
                    var growth = GC.GetTotalMemory(forceFullCollection: true) - baseline;
                    maxHeapGrowth = Math.Max(maxHeapGrowth, growth);
                    Assert.True(growth <= limit + margin, $"After {i + 1} reads the heap grew {growth:N0} bytes, over the limit {limit:N0} + margin {margin:N0} (charged {reader.MemoryBytes:N0}).");
                }
            }
        }
        finally
        {
            flood.Stop();
            await flooding.CancelAsync();
        }

        var latencies = await tenantB;
        Array.Sort(latencies);
        Output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"[measure] 500 reads of 1 MiB JSON arrays on replica 2 in {flood.ElapsedMilliseconds} ms (limit {limit / MiB} MiB): max charged {maxCharged / (double)MiB:F1} MiB, max heap growth {maxHeapGrowth / (double)MiB:F1} MiB, tenant a keeps {readerA.MemoryCount} entries; tenant b {latencies.Length} memory hits meanwhile: p50 {Percentile(latencies, 0.5):F3} ms, p99 {Percentile(latencies, 0.99):F3} ms, max {latencies[^1]:F3} ms"));
        Assert.InRange(readerA.MemoryCount, 1, 500);
        Assert.True(latencies.Length >= 50, $"Tenant b read only {latencies.Length} times during the flood.");
        Assert.True(Percentile(latencies, 0.5) < 1, $"Tenant b's median memory hit took {Percentile(latencies, 0.5):F3} ms during the flood.");
        for (var i = 0; i < 50; i++)
        {
            var after = await readerB.GetAsync<Payload>($"b{i}", Token);
            Assert.Equal((new Payload($"value {i}", i), CacheSource.Memory), (after.Value, after.Source));
        }
    }

    [Fact]
    public async Task SetAsync_LargeJsonElement_IsChargedWhatItHoldsNotItsSerializedLength()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1, Settings(96 * MiB));
        var cache = hosts.Cache(0);

        await cache.SetAsync("zeros", ZerosArray(), cancellationToken: Token);
        var hit = await cache.GetAsync<JsonElement>("zeros", Token);

        Output.WriteLine($"[measure] a 1 MiB JSON array set as a JsonElement is charged {cache.Runtime.MemoryBytes:N0} bytes");
        Assert.Equal((Zeros, CacheSource.Memory), (hit.Value.GetArrayLength(), hit.Source));
        Assert.InRange(cache.Runtime.MemoryBytes, 6 * MiB, 12 * MiB);
    }

    [Fact]
    public async Task GetAsync_EntryLargerThanAQuarterOfTheShare_IsServedFromRedisAndNotKept()
    {
        // A 16 MiB limit with the default share (0.5) admits entries up to 2 MiB; the array holds about 7 MiB.
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 2, Settings(16 * MiB));
        await hosts.Cache(0).SetAsync("zeros", ZerosArray(), cancellationToken: Token);
        await hosts.Cache(0).SetAsync("small", new Payload("small", 1), cancellationToken: Token);

        var first = await hosts.Cache(1).GetAsync<JsonElement>("zeros", Token);
        var second = await hosts.Cache(1).GetAsync<JsonElement>("zeros", Token);
        var local = await hosts.Cache(0).GetAsync<JsonElement>("zeros", Token);
        await ProcessUtil.WaitUntilAsync(async () => (await hosts.Cache(1).GetAsync<Payload>("small", Token)).Source == CacheSource.Memory, TimeSpan.FromSeconds(5), "the small entry in memory", Token);

        Assert.Equal((Zeros, CacheSource.Redis), (first.Value.GetArrayLength(), first.Source));
        Assert.Equal((Zeros, CacheSource.Redis), (second.Value.GetArrayLength(), second.Source));
        Assert.Equal((Zeros, CacheSource.Redis), (local.Value.GetArrayLength(), local.Source));
        Assert.False(hosts.Cache(1).MemoryContains("zeros"));
        Assert.False(hosts.Cache(0).MemoryContains("zeros"));
        Assert.InRange(hosts.Cache(1).Runtime.MemoryBytes, 1, MiB);
    }

    private static KeyValuePair<string, string?>[] Settings(long limit) =>
        [new("Coordination:Cache:MemorySizeLimitBytes", limit.ToString(CultureInfo.InvariantCulture))];

    private static JsonElement ZerosArray()
    {
        var json = new StringBuilder(2 * Zeros + 1).Append('[');
        json.Append('0');
        for (var i = 1; i < Zeros; i++)
        {
            json.Append(",0");
        }

        var bytes = Encoding.UTF8.GetBytes(json.Append(']').ToString());
        Assert.Equal(1_048_575, bytes.Length);
        return JsonSerializer.Deserialize<JsonElement>(bytes);
    }

    /// <summary>Reads tenant b's 50 entries over and over until canceled; each read must be a correct memory hit.</summary>
    private static async Task<double[]> ReadTenantBAsync(RedisCacheManager cache, CancellationToken stop)
    {
        var latencies = new List<double>();
        while (!stop.IsCancellationRequested)
        {
            for (var i = 0; i < 50; i++)
            {
                var started = Stopwatch.GetTimestamp();
                var result = await cache.GetAsync<Payload>($"b{i}", Token);
                latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                Assert.Equal((new Payload($"value {i}", i), CacheSource.Memory), (result.Value, result.Source));
            }

            try
            {
                await Task.Delay(5, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return [.. latencies];
    }

    private static double Percentile(double[] sorted, double fraction) => sorted[Math.Min(sorted.Length - 1, (int)(sorted.Length * fraction))];

    private sealed record Payload(string Name, int Number);
}
