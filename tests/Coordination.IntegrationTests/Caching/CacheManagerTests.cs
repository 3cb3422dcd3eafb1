using System.Diagnostics;
using System.Text;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Caching;

/// <summary>The two-level cache on the shared redis-server: levels, single-flight, backplane, tags, prefixes, TTL, compression.</summary>
public sealed class CacheManagerTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task SetAsync_ThenGetAsync_HitsMemoryThenRedisOnAnotherNode()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 2);
        await hosts.Cache(0).SetAsync("k", new Payload("v", 1), cancellationToken: Token);

        var local = await hosts.Cache(0).GetAsync<Payload>("k", Token);
        var remote = await hosts.Cache(1).GetAsync<Payload>("k", Token);
        // The first read may be overtaken by the write's own invalidation message, and then it does not fill memory.
        await ProcessUtil.WaitUntilAsync(async () => (await hosts.Cache(1).GetAsync<Payload>("k", Token)).Source == CacheSource.Memory, TimeSpan.FromSeconds(5), "the memory level to fill", Token);
        var remoteAgain = await hosts.Cache(1).GetAsync<Payload>("k", Token);
        var missing = await hosts.Cache(1).GetAsync<Payload>("absent", Token);

        Assert.Equal((new Payload("v", 1), CacheSource.Memory), (local.Value, local.Source));
        Assert.Equal((new Payload("v", 1), CacheSource.Redis), (remote.Value, remote.Source));
        Assert.Equal(CacheSource.Memory, remoteAgain.Source);
        Assert.False(missing.HasValue);
        Assert.Equal(CacheSource.None, missing.Source);
    }

    [Fact]
    public async Task GetOrCreateAsync_500ConcurrentCallersOnColdKey_FactoryRunsOnce()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1);
        var cache = hosts.Cache(0);
        var calls = 0;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var callers = Enumerable.Range(0, 500).Select(_ => Task.Run(() => cache.GetOrCreateAsync("cold", async ct =>
        {
            Interlocked.Increment(ref calls);
            await gate.Task.WaitAsync(ct);
            return 42;
        }, cancellationToken: Token).AsTask(), Token)).ToArray();
        await Task.Delay(100, Token);
        gate.SetResult();
        var results = await Task.WhenAll(callers);

        Output.WriteLine($"[measure] 500 concurrent GetOrCreateAsync on one cold key in one process: {calls} factory call(s)");
        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal(42, r.Value));
        // The flight ends once its Redis write landed (the callers were answered before: background writes).
        await ProcessUtil.WaitUntilAsync(() => cache.FlightCount == 0, TimeSpan.FromSeconds(5), "the flight to end", Token);
    }

    [Fact]
    public async Task GetOrCreateAsync_ThreeNodesWithDistributedSingleFlight_FactoryRunsOnce()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 3);
        var calls = 0;
        var options = new CacheEntryOptions { DistributedSingleFlight = true, TimeToLive = TimeSpan.FromMinutes(1) };

        var callers = Enumerable.Range(0, 300).Select(i => Task.Run(() => hosts.Cache(i % 3).GetOrCreateAsync("shared", async ct =>
        {
            Interlocked.Increment(ref calls);
            await Task.Delay(300, ct);
            return "computed";
        }, options, Token).AsTask(), Token)).ToArray();
        var results = await Task.WhenAll(callers);

        Output.WriteLine($"[measure] 300 concurrent GetOrCreateAsync over 3 nodes with distributed single-flight: {calls} factory call(s)");
        Assert.Equal(1, calls);
        Assert.All(results, r => Assert.Equal("computed", r.Value));
    }

    [Fact]
    public async Task GetOrCreateAsync_TenantHoldsLockNamedLikeTheSingleFlightLock_IsNotDelayed()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1);
        var tenantLocks = hosts[0].Coordinator.Locks;
        var options = new CacheEntryOptions { DistributedSingleFlight = true, TimeToLive = TimeSpan.FromMinutes(1) };
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var platformLockKey = $"{hosts.KeyPrefix}:default:platform-lock:{{cache:k}}";
        var tenantLockKey = $"{hosts.KeyPrefix}:default:lock:{{cache:k}}";
        await using var userLock = await tenantLocks.AcquireAsync("cache:k", new LockOptions { TimeToLive = TimeSpan.FromMinutes(1) }, Token);
        var platformLockHeldDuringFactory = false;
        var started = Stopwatch.GetTimestamp();

        var result = await hosts.Cache(0).GetOrCreateAsync("k", async ct =>
        {
            platformLockHeldDuringFactory = await admin.KeyExistsAsync(platformLockKey);
            return "computed";
        }, options, Token);

        var elapsed = Stopwatch.GetElapsedTime(started);
        Output.WriteLine($"[measure] single-flight on 'k' while the tenant holds its own lock 'cache:k': {Latency.Format(elapsed.TotalMilliseconds)}");
        Assert.Equal("computed", result.Value);
        Assert.True(platformLockHeldDuringFactory, "The factory ran without the platform's single-flight lock.");
        Assert.False(userLock.HandleLost.IsCancellationRequested, "The tenant's lock was disturbed.");
        Assert.True(await admin.KeyExistsAsync(tenantLockKey), "The tenant's lock is gone.");

        // On a shared name the single-flight would have waited out DistributedSingleFlightWait (10 s by default).
        Assert.True(elapsed < TimeSpan.FromSeconds(5), $"Single-flight took {elapsed.TotalMilliseconds:F0} ms.");
    }

    [Fact]
    public async Task SetAsync_OnOneNode_EvictsOtherNodesMemoryWithinBoundedTime()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 3);
        var samples = new List<double>();
        for (var round = 0; round < 20; round++)
        {
            await hosts.Cache(0).SetAsync("hot", round, cancellationToken: Token);
            await ProcessUtil.WaitUntilAsync(
                async () => (await hosts.Cache(1).GetAsync<int>("hot", Token)).Value == round && (await hosts.Cache(2).GetAsync<int>("hot", Token)).Value == round
                    && hosts.Cache(1).MemoryContains("hot") && hosts.Cache(2).MemoryContains("hot"),
                TimeSpan.FromSeconds(5),
                "the other nodes to hold the key in memory",
                Token,
                TimeSpan.FromMilliseconds(1));

            var started = Stopwatch.GetTimestamp();
            await hosts.Cache(0).SetAsync("hot", round + 1000, cancellationToken: Token);
            await ProcessUtil.WaitUntilAsync(
                () => !hosts.Cache(1).MemoryContains("hot") && !hosts.Cache(2).MemoryContains("hot"),
                TimeSpan.FromSeconds(5),
                "the other nodes to evict the key",
                Token,
                TimeSpan.FromMilliseconds(1));
            samples.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Assert.Equal(round + 1000, (await hosts.Cache(1).GetAsync<int>("hot", Token)).Value);
        }

        Output.WriteLine($"[measure] invalidation reached 2 other nodes' L1 after SetAsync returned + poll: p50 {Latency.Format(Latency.Percentile(samples, 50))}, max {Latency.Format(samples.Max())} (20 rounds, includes the writer's round trip)");
        Assert.True(samples.Max() < 2000, $"Propagation took up to {samples.Max()} ms.");
    }

    [Fact]
    public async Task InvalidateTagsAsync_HidesEveryTaggedEntryOnEveryNode()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 3);
        var tagged = new CacheEntryOptions { Tags = ["product:7", "catalog"] };
        var other = new CacheEntryOptions { Tags = ["catalog-2"] };
        await hosts.Cache(0).SetAsync("a", "A", tagged, Token);
        await hosts.Cache(1).SetAsync("b", "B", new CacheEntryOptions { Tags = ["catalog"] }, Token);
        await hosts.Cache(2).SetAsync("c", "C", other, Token);
        for (var i = 0; i < 3; i++)
        {
            Assert.True((await hosts.Cache(i).GetAsync<string>("a", Token)).HasValue);
            Assert.True((await hosts.Cache(i).GetAsync<string>("b", Token)).HasValue);
        }

        var started = Stopwatch.GetTimestamp();
        await hosts.Cache(2).InvalidateTagsAsync(["catalog"], Token);
        Assert.False((await hosts.Cache(2).GetAsync<string>("a", Token)).HasValue);
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                for (var i = 0; i < 3; i++)
                {
                    if ((await hosts.Cache(i).GetAsync<string>("a", Token)).HasValue || (await hosts.Cache(i).GetAsync<string>("b", Token)).HasValue)
                    {
                        return false;
                    }
                }

                return true;
            },
            TimeSpan.FromSeconds(5),
            "the tag invalidation to reach every node",
            Token,
            TimeSpan.FromMilliseconds(2));
        Output.WriteLine($"[measure] tag invalidation hid all tagged entries on 3 nodes after {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F1} ms");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal("C", (await hosts.Cache(i).GetAsync<string>("c", Token)).Value);
        }

        // A node started after the invalidation loads the stamps and does not serve the old entry either.
        await hosts.AddAsync(redis.ConnectionString);
        Assert.False((await hosts.Cache(3).GetAsync<string>("a", Token)).HasValue);

        // Writing again after the invalidation is visible.
        await hosts.Cache(0).SetAsync("a", "A2", tagged, Token);
        Assert.Equal("A2", (await hosts.Cache(1).GetAsync<string>("a", Token)).Value);
    }

    [Fact]
    public async Task InvalidateByPrefixAsync_HidesMatchingKeysOnEveryNode()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 2);
        foreach (var key in new[] { "user:1", "user:2", "order:1" })
        {
            await hosts.Cache(0).SetAsync(key, key, cancellationToken: Token);
            Assert.True((await hosts.Cache(1).GetAsync<string>(key, Token)).HasValue);
        }

        await hosts.Cache(0).InvalidateByPrefixAsync("user:", Token);
        await hosts.Cache(0).InvalidateByPrefixAsync("user:", Token);

        await ProcessUtil.WaitUntilAsync(
            async () => !(await hosts.Cache(1).GetAsync<string>("user:1", Token)).HasValue && !(await hosts.Cache(1).GetAsync<string>("user:2", Token)).HasValue,
            TimeSpan.FromSeconds(5),
            "the prefix invalidation to reach the other node",
            Token);
        Assert.False((await hosts.Cache(0).GetAsync<string>("user:1", Token)).HasValue);
        Assert.Equal("order:1", (await hosts.Cache(1).GetAsync<string>("order:1", Token)).Value);
        await hosts.Cache(1).SetAsync("user:3", "new", cancellationToken: Token);
        Assert.Equal("new", (await hosts.Cache(0).GetAsync<string>("user:3", Token)).Value);
    }

    [Fact]
    public async Task RemoveAsync_RemovesFromRedisAndEveryNode()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 2);
        await hosts.Cache(0).SetAsync("gone", 1, cancellationToken: Token);
        Assert.True((await hosts.Cache(1).GetAsync<int>("gone", Token)).HasValue);

        await hosts.Cache(0).RemoveAsync("gone", Token);

        await ProcessUtil.WaitUntilAsync(() => !hosts.Cache(1).MemoryContains("gone"), TimeSpan.FromSeconds(5), "the removal to reach the other node", Token);
        Assert.False((await hosts.Cache(1).GetAsync<int>("gone", Token)).HasValue);
        var admin = await redis.GetAdminAsync();
        Assert.False(await admin.GetDatabase().KeyExistsAsync(hosts.Cache(0).RedisKey("gone")));
    }

    [Fact]
    public async Task SetAsync_WithJitter_TimeToLiveStaysWithinBounds()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1);
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var options = new CacheEntryOptions { TimeToLive = TimeSpan.FromSeconds(60), Jitter = TimeSpan.FromSeconds(10) };
        var ttls = new List<double>();
        for (var i = 0; i < 40; i++)
        {
            await hosts.Cache(0).SetAsync($"j{i}", i, options, Token);
            ttls.Add((await admin.KeyTimeToLiveAsync(hosts.Cache(0).RedisKey($"j{i}")))!.Value.TotalSeconds);
        }

        Output.WriteLine($"[measure] TTL 60 s + jitter 10 s over 40 entries: min {ttls.Min():F2} s, max {ttls.Max():F2} s, distinct {ttls.Select(t => Math.Round(t)).Distinct().Count()}");
        Assert.All(ttls, t => Assert.InRange(t, 59, 70.01));
        Assert.True(ttls.Max() - ttls.Min() > 1, "Jitter should spread the TTLs.");
    }

    [Fact]
    public async Task SetAsync_CompressibleValue_RoundTripsAndShrinks_MixedEntriesReadable()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 2);
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var text = string.Concat(Enumerable.Repeat("the quick brown fox jumps over the lazy dog ", 500));
        await hosts.Cache(0).SetAsync("brotli", text, new CacheEntryOptions { Compression = CacheCompression.Brotli }, Token);
        await hosts.Cache(0).SetAsync("gzip", text, new CacheEntryOptions { Compression = CacheCompression.GZip }, Token);
        await hosts.Cache(0).SetAsync("plain", text, new CacheEntryOptions { Compression = CacheCompression.None }, Token);
        await hosts.Cache(0).SetAsync("small", "tiny", cancellationToken: Token);
        var random = new byte[8192];
        Random.Shared.NextBytes(random);
        await hosts.Cache(0).SetAsync("random", random, cancellationToken: Token);

        var brotli = await admin.StringLengthAsync(hosts.Cache(0).RedisKey("brotli"));
        var gzip = await admin.StringLengthAsync(hosts.Cache(0).RedisKey("gzip"));
        var plain = await admin.StringLengthAsync(hosts.Cache(0).RedisKey("plain"));
        var randomStored = await admin.StringLengthAsync(hosts.Cache(0).RedisKey("random"));
        Output.WriteLine($"[measure] {Encoding.UTF8.GetByteCount(text)}-char compressible value stored as: none {plain} B, brotli {brotli} B, gzip {gzip} B; 8 KiB random stored as {randomStored} B");

        Assert.True(brotli < plain / 10 && gzip < plain / 10);
        Assert.True(randomStored < 8192 + 64, "Incompressible values are kept uncompressed.");
        foreach (var key in new[] { "brotli", "gzip", "plain" })
        {
            Assert.Equal(text, (await hosts.Cache(1).GetAsync<string>(key, Token)).Value);
        }

        Assert.Equal("tiny", (await hosts.Cache(1).GetAsync<string>("small", Token)).Value);
        Assert.Equal(random, (await hosts.Cache(1).GetAsync<byte[]>("random", Token)).Value);
    }

    [Fact]
    public async Task GetOrCreateAsync_EagerRefresh_RefreshesInBackgroundBeforeExpiry()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1);
        var version = 0;
        var options = new CacheEntryOptions { TimeToLive = TimeSpan.FromMilliseconds(600), EagerRefreshThreshold = 0.5 };
        ValueTask<int> Factory(CancellationToken ct) => ValueTask.FromResult(Interlocked.Increment(ref version));

        Assert.Equal(1, (await hosts.Cache(0).GetOrCreateAsync("eager", Factory, options, Token)).Value);
        await Task.Delay(400, Token);
        var served = await hosts.Cache(0).GetOrCreateAsync("eager", Factory, options, Token);
        Assert.Equal(1, served.Value);
        await ProcessUtil.WaitUntilAsync(async () => (await hosts.Cache(0).GetAsync<int>("eager", Token)).Value == 2, TimeSpan.FromSeconds(5), "the background refresh", Token);
    }

    [Fact]
    public async Task InvalidArguments_Throw()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1);
        var cache = hosts.Cache(0);
        await Assert.ThrowsAsync<ArgumentException>(() => cache.GetAsync<int>("", Token).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => cache.SetAsync("k", 1, new CacheEntryOptions { TimeToLive = TimeSpan.Zero }, Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => cache.SetAsync("k", 1, new CacheEntryOptions { Tags = ["bad\n"] }, Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => cache.InvalidateTagsAsync(["ok", ""], Token).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>(() => cache.GetOrCreateAsync<int>("k", null!, cancellationToken: Token).AsTask());
        await cache.InvalidateTagsAsync([], Token);
    }

    [Fact]
    public async Task Coordinator_Cache_IsTheTenantsCache()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1);
        Assert.Same(hosts.Cache(0), hosts[0].Coordinator.Cache);
        var other = hosts[0].Factory.ForTenant("tenant-b").Cache;
        Assert.Equal("tenant-b", other.Tenant);
        await other.SetAsync("k", "b", cancellationToken: Token);
        Assert.False((await hosts.Cache(0).GetAsync<string>("k", Token)).HasValue);
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        Assert.True(await admin.KeyExistsAsync($"{hosts.KeyPrefix}:tenant-b:cache:k"));
    }

    [Fact]
    public async Task GetAsync_Latency_MeasuredAgainstRawGet()
    {
        // Node 0 has no memory level (every read is an L2 hit); node 1 has the default one.
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 1, [new("Coordination:Cache:MemoryTimeToLive", "00:00:00")]);
        await hosts.AddAsync(redis.ConnectionString);
        var cache = hosts.Cache(0);
        var value = new Payload(new string('x', 200), 7);
        await cache.SetAsync("bench", value, cancellationToken: Token);
        await hosts.Cache(1).SetAsync("bench-l1", value, cancellationToken: Token);
        var raw = (await redis.GetAdminAsync()).GetDatabase();
        var rawKey = (RedisKey)hosts.Cache(0).RedisKey("bench");
        const int Rounds = 2000;

        for (var i = 0; i < 200; i++)
        {
            await raw.StringGetAsync(rawKey);
            await cache.GetAsync<Payload>("bench", Token);
        }

        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < Rounds; i++)
        {
            await raw.StringGetAsync(rawKey);
        }

        var rawMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds / Rounds;
        started = Stopwatch.GetTimestamp();
        for (var i = 0; i < Rounds; i++)
        {
            Assert.Equal(CacheSource.Redis, (await cache.GetAsync<Payload>("bench", Token)).Source);
        }

        var l2Ms = Stopwatch.GetElapsedTime(started).TotalMilliseconds / Rounds;
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        started = Stopwatch.GetTimestamp();
        for (var i = 0; i < Rounds * 10; i++)
        {
            await hosts.Cache(1).GetAsync<Payload>("bench-l1", Token);
        }

        var l1Us = Stopwatch.GetElapsedTime(started).TotalMicroseconds / (Rounds * 10);
        var l1Bytes = (GC.GetAllocatedBytesForCurrentThread() - allocated) / (double)(Rounds * 10);

        Output.WriteLine($"[measure] sequential, one connection each: raw GET {Latency.Format(rawMs)}, cache L2 hit {Latency.Format(l2Ms)} ({l2Ms / rawMs:F2}x raw, includes deserialization and pooled executor), L1 hit {l1Us:F3} us and {l1Bytes:F1} B allocated per call");
        Assert.True(l2Ms < rawMs * 5 + 1, "An L2 hit should cost about one round trip.");
        Assert.True(l1Us < 100, "An L1 hit should not touch Redis.");
    }

    private sealed record Payload(string Name, int Number);
}
