using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.Caching;

/// <summary>The cache without a reachable Redis: memory level, fail-safe paths, backplane parsing, compaction, options.</summary>
public class CacheRuntimeTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static async Task<(UnreachableRedis Redis, CacheRuntime Runtime)> StartAsync(Action<CacheOptions>? configure = null, TimeProvider? time = null)
    {
        time ??= TimeProvider.System;
        var redis = await UnreachableRedis.StartAsync(new ResilienceOptions { MaxRetryAttempts = 0 }, time, Token);
        var options = new CoordinationOptions();
        configure?.Invoke(options.Cache);
        return (redis, redis.NewCacheRuntime(redis.NewLockRuntime(options, time), options, time));
    }

    [Fact]
    public async Task RedisDown_SetKeepsMemory_GetOrCreateComputes_GetOfUnknownKeyThrows()
    {
        var (redis, runtime) = await StartAsync();
        await using var _ = redis;
        await using var __ = runtime;
        var cache = runtime.ForTenant("t");

        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.SetAsync("k", "v", cancellationToken: Token).AsTask());
        var memory = await cache.GetAsync<string>("k", Token);
        var created = await cache.GetOrCreateAsync("other", _ => ValueTask.FromResult(7), cancellationToken: Token);
        var again = await cache.GetOrCreateAsync("other", _ => ValueTask.FromResult(8), cancellationToken: Token);

        Assert.Equal(("v", CacheSource.Memory), (memory.Value, memory.Source));
        Assert.Equal((7, CacheSource.Factory), (created.Value, created.Source));
        Assert.Equal((7, CacheSource.Memory), (again.Value, again.Source));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.GetAsync<string>("unknown", Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.RemoveAsync("k", Token).AsTask());
        Assert.False(cache.MemoryContains("k"));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.InvalidateTagsAsync(["x"], Token).AsTask());
        Assert.Same(cache, runtime.ForTenant("t"));
        Assert.Single(runtime.Tenants);
    }

    [Fact]
    public async Task OnMessage_AppliesOtherNodesInvalidations_IgnoresOwnAndMalformed()
    {
        var (redis, runtime) = await StartAsync();
        await using var _ = redis;
        await using var __ = runtime;
        var cache = runtime.ForTenant("t");
        var tagged = new CacheEntryOptions { Tags = ["tag"] };
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.SetAsync("a", 1, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.SetAsync("b", 2, tagged, Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.SetAsync("p:1", 3, cancellationToken: Token).AsTask());

        runtime.OnMessage("1-0\n" + runtime.NodeId + "\nk\nt\na");
        runtime.OnMessage("garbage");
        runtime.OnMessage("1-1\nother\nk\nunknown-tenant\na");
        Assert.True(cache.MemoryContains("a"));

        runtime.OnMessage("1-2\nother\nk\nt\na");
        var stamp = runtime.NowMs() + 1000;
        runtime.OnMessage($"1-3\nother\nt\nt\n{stamp}\u001ftag");
        runtime.OnMessage($"1-4\nother\np\nt\n{stamp}\u001fp:");
        runtime.OnMessage($"1-5\nother\np\nt\n{stamp}\u001fp:");
        runtime.OnMessage("1-6\nother\nt\nt\nnot-a-stamp");

        Assert.False(cache.MemoryContains("a"));
        Assert.Equal(6, runtime.MessageCount);
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.GetAsync<int>("b", Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.GetAsync<int>("p:1", Token).AsTask());
    }

    [Fact]
    public async Task OnMessage_SameIdInTwoTenantsLogs_AppliedToEachTenant_LogsArePerTenant()
    {
        var (redis, runtime) = await StartAsync();
        await using var _ = redis;
        await using var __ = runtime;
        var first = runtime.ForTenant("t1");
        var second = runtime.ForTenant("t2");
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => first.SetAsync("a", 1, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => second.SetAsync("a", 2, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => second.SetAsync("b", 3, cancellationToken: Token).AsTask());

        // Ids of different streams may be equal; one tenant's delivered id must not stand for the other's.
        runtime.OnMessage("5-0\nother\nk\nt1\na");
        runtime.OnMessage("5-0\nother\nk\nt2\na");

        Assert.False(first.MemoryContains("a"));
        Assert.False(second.MemoryContains("a"));
        Assert.True(second.MemoryContains("b"));
        Assert.Equal(runtime.KeyPrefix + ":t1:cache-log", runtime.LogKeyOf("t1"));
        Assert.Equal(runtime.KeyPrefix + ":t2:cache-log", runtime.LogKeyOf("t2"));
        Assert.Null(runtime.OffsetOf("t1"));
    }

    [Fact]
    public async Task OnMessage_ManyUnreplayedIds_DeliveredSetStaysBoundedPerTenant()
    {
        var (redis, runtime) = await StartAsync(o => o.InvalidationLogLength = 10);
        await using var _ = redis;
        await using var __ = runtime;
        runtime.ForTenant("flooded");
        runtime.ForTenant("quiet");

        for (var i = 0; i < 3000; i++)
        {
            runtime.OnMessage($"{i}-0\nother\nk\nflooded\nkey{i}");
        }

        runtime.OnMessage("1-0\nother\nk\nquiet\nkey");

        Assert.Equal(3001, runtime.MessageCount);
        Assert.InRange(runtime.DeliveredCountOf("flooded"), 1, 1024);
        Assert.Equal(1, runtime.DeliveredCountOf("quiet"));
    }

    [Fact]
    public async Task MemoryHit_DoesNotAllocate()
    {
        var (redis, runtime) = await StartAsync();
        await using var _ = redis;
        await using var __ = runtime;
        var cache = runtime.ForTenant("t");
        var options = new CacheEntryOptions { TimeToLive = TimeSpan.FromMinutes(1) };
        await cache.GetOrCreateAsync("hot", _ => ValueTask.FromResult("value"), options, Token);
        await cache.GetAsync<string>("hot", Token);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            await cache.GetAsync<string>("hot", Token);
            await cache.GetOrCreateAsync("hot", _ => ValueTask.FromResult("other"), options, Token);
        }

        var perCall = (GC.GetAllocatedBytesForCurrentThread() - before) / 2000.0;
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] L1 hit without a metrics listener: {perCall:F1} B allocated per call");
        Assert.True(perCall < 8, $"{perCall} B per L1 hit.");
    }

    [Fact]
    public async Task Store_OverSizeLimit_EvictsLeastRecentlyUsedBeforeReturning()
    {
        var (redis, runtime) = await StartAsync(o => (o.MemorySizeLimitBytes, o.MemoryTenantShare) = (20_000, 1));
        await using var _ = redis;
        await using var __ = runtime;
        var cache = runtime.ForTenant("t");
        for (var i = 0; i < 20; i++)
        {
            // A 2000-character string holds 4 KB as UTF-16: it is charged that, not its 2 KB of JSON.
            await cache.GetOrCreateAsync($"k{i}", _ => ValueTask.FromResult(new string('x', 2000)), cancellationToken: Token);
            Assert.InRange(runtime.MemoryBytes, 0, 20_000);
        }

        Assert.InRange(runtime.MemoryBytes, 4000 * cache.MemoryCount, 20_000);
        Assert.InRange(cache.MemoryCount, 1, 4);
        cache.ClearMemory();
        Assert.Equal(0, cache.MemoryCount);
        Assert.Equal(0, runtime.MemoryBytes);
    }

    [Fact]
    public async Task SetAsync_KeepsWhatTheMemoryLevelCanHoldAndMeasure()
    {
        var (redis, runtime) = await StartAsync(o => (o.MemorySizeLimitBytes, o.MemoryTenantShare) = (40_000, 1));
        await using var _ = redis;
        await using var __ = runtime;
        var cache = runtime.ForTenant("t");
        async Task SetAsync<T>(string key, T value, CacheEntryOptions? options = null) =>
            await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.SetAsync(key, value, options, Token).AsTask());

        var bytes = new byte[1000];
        await SetAsync("bytes", bytes);
        var list = new List<int> { 1, 2, 3 };
        await SetAsync("list", list);
        await SetAsync("too-large", new string('x', 10_001));
        await SetAsync<IComparable>("unreadable", 5);
        await SetAsync("not-in-memory", "old");
        await SetAsync("not-in-memory", "new", new CacheEntryOptions { MemoryTimeToLive = TimeSpan.Zero });

        // A byte array is kept as given; other values as the cache's own copy, which a caller's change does not reach.
        Assert.Same(bytes, (await cache.GetAsync<byte[]>("bytes", Token)).Value);
        list.Add(4);
        Assert.Equal([1, 2, 3], (await cache.GetAsync<List<int>>("list", Token)).Value);
        Assert.InRange(cache.MemoryBytes, 1000 + 24, 3000);
        Assert.False(cache.MemoryContains("too-large"));
        Assert.False(cache.MemoryContains("unreadable"));
        Assert.False(cache.MemoryContains("not-in-memory"));
    }

    [Fact]
    public async Task GetOrCreateAsync_FactoryFailsWithStaleInMemory_ServesStale()
    {
        // Without Redis the cache's clock is the time provider's: the entry's time to live and the factory's hard
        // timeout run on fake time, so a busy machine cannot stretch or shrink them.
        var time = new TimerAwareTimeProvider();
        var (redis, runtime) = await StartAsync(o => o.FailSafeWindow = TimeSpan.FromMinutes(1), time);
        await using var _ = redis;
        await using var __ = runtime;
        var cache = runtime.ForTenant("t");
        var shortLived = new CacheEntryOptions { TimeToLive = TimeSpan.FromMilliseconds(50) };
        await cache.GetOrCreateAsync("k", _ => ValueTask.FromResult("good"), shortLived, Token);

        // The miss's flight lasts until its background write ends (here: fails, on the real clock); a call made before
        // that joins it instead of judging the memory level's copy.
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (cache.FlightCount > 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(1, Token);
        }

        Assert.Equal(0, cache.FlightCount);

        time.Advance(TimeSpan.FromMilliseconds(49));
        var fresh = await cache.GetOrCreateAsync<string>("k", _ => throw new InvalidOperationException(), shortLived, Token);
        time.Advance(TimeSpan.FromMilliseconds(1));
        var stale = await cache.GetOrCreateAsync<string>("k", _ => throw new InvalidOperationException(), shortLived, Token);

        var hardTimeout = TimeSpan.FromMilliseconds(50);
        var hardTimerStarted = time.WhenTimerCreated(due => due == hardTimeout);
        var hardCall = cache.GetOrCreateAsync(
            "k",
            async ct =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2), time, ct);
                return "late";
            },
            new CacheEntryOptions { TimeToLive = TimeSpan.FromMilliseconds(50), FactoryHardTimeout = hardTimeout },
            Token).AsTask();
        await hardTimerStarted.WaitAsync(TimeSpan.FromSeconds(10), Token);
        time.Advance(hardTimeout - TimeSpan.FromMilliseconds(1));
        var pendingBeforeTimeout = !hardCall.IsCompleted;
        time.Advance(TimeSpan.FromMilliseconds(1));
        var hard = await hardCall.WaitAsync(TimeSpan.FromSeconds(10), Token);

        Assert.Equal(("good", false, CacheSource.Memory), (fresh.Value, fresh.IsStale, fresh.Source));
        Assert.Equal(("good", true, CacheSource.Memory), (stale.Value, stale.IsStale, stale.Source));
        Assert.True(pendingBeforeTimeout);
        Assert.Equal(("good", true), (hard.Value, hard.IsStale));
    }

    [Fact]
    public async Task Host_RegistersCacheAndValidatesCacheOptions()
    {
        using var host = BuildHost([new("ConnectionStrings:redis", $"127.0.0.1:{UnreachableRedis.FreeLoopbackPort()}")]);
        Assert.IsAssignableFrom<ICacheManager>(host.Services.GetRequiredService<ICacheManager>());
        Assert.IsType<CoordinationDistributedCache>(host.Services.GetRequiredService<Microsoft.Extensions.Caching.Distributed.IDistributedCache>());
        Assert.Equal(TimeSpan.FromSeconds(3), host.Services.GetRequiredService<IOptions<CoordinationOptions>>().Value.Cache.DefaultTimeToLive);

        using var bad = BuildHost(
        [
            new("ConnectionStrings:redis", "127.0.0.1:1"),
            new("Coordination:Cache:FactorySoftTimeout", "00:00:02"),
            new("Coordination:Cache:FactoryHardTimeout", "00:00:01"),
        ]);
        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => bad.StartAsync(Token));
        Assert.Contains("FactorySoftTimeout", ex.Message, StringComparison.Ordinal);

        using var annotated = BuildHost([new("ConnectionStrings:redis", "127.0.0.1:1"), new("Coordination:Cache:EagerRefreshThreshold", "1.5")]);
        var annotatedEx = await Assert.ThrowsAsync<OptionsValidationException>(() => annotated.StartAsync(Token));
        Assert.Contains("EagerRefreshThreshold", annotatedEx.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-0.5")]
    [InlineData("1.01")]
    public async Task Host_MemoryTenantShareOutsideZeroToOne_FailsToStart(string share)
    {
        using var host = BuildHost([new("ConnectionStrings:redis", "127.0.0.1:1"), new("Coordination:Cache:MemoryTenantShare", share)]);

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Token));

        Assert.Contains("MemoryTenantShare", ex.Message, StringComparison.Ordinal);
    }

    private static IHost BuildHost(KeyValuePair<string, string?>[] settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true, EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddCoordination().WithCaching(o => o.DefaultTimeToLive = TimeSpan.FromSeconds(3));
        return builder.Build();
    }
}
