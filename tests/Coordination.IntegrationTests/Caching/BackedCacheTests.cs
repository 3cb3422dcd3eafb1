using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Hosting;

namespace Coordination.IntegrationTests.Caching;

/// <summary>Read-through, refresh-ahead and write-through through <see cref="IBackedCache"/>, against the shared redis-server and a real PostgreSQL table.</summary>
public sealed class BackedCacheTests(SharedRedisFixture redis, PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    private async Task<ItemTable> TableAsync() =>
        await ItemTable.CreateAsync(await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token), Token);

    [Fact]
    public async Task GetAsync_200ConcurrentMissesOnOneKey_LoadsFromPostgresOnceAndCachesInRedis()
    {
        await using var table = await TableAsync();
        await table.UpsertAsync([new("product:1", 41)], Token);
        var prefix = TestKeys.NewPrefix();
        await using var host = await StrategyHost.StartAsync(redis.ConnectionString, prefix, c => c
            .WithReadThrough<int>("product:", async (key, ct) =>
            {
                await Task.Delay(100, ct); // a slow query, so that the callers pile up behind it
                return await table.LoadAsync(key, ct);
            }));
        await using var other = await StrategyHost.StartAsync(redis.ConnectionString, prefix, _ => { }, hostName: "plain");

        var results = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => Task.Run(() => host.Backed.GetAsync<int>("product:1", Token).AsTask(), Token)));
        var again = await host.Backed.GetAsync<int>("product:1", Token);
        // The miss's Redis write follows its answer (background writes): another node reads it once it landed.
        CacheResult<int> inRedis = default;
        await ProcessUtil.WaitUntilAsync(async () => (inRedis = await other.Cache.GetAsync<int>("product:1", Token)).HasValue, TimeSpan.FromSeconds(5), "the loaded value in Redis", Token);
        var unregistered = await host.Backed.GetAsync<int>("order:1", Token);

        Output.WriteLine($"[measure] 200 concurrent read-through misses of one key: {table.LoadCalls} PostgreSQL load(s)");
        Assert.Equal(1, table.LoadCalls);
        Assert.All(results, r => Assert.Equal(41, r.Value));
        Assert.Equal((41, CacheSource.Memory), (again.Value, again.Source));
        Assert.Equal((41, CacheSource.Redis), (inRedis.Value, inRedis.Source));
        Assert.False(unregistered.HasValue); // no loader for "order:": a plain cache read
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.Backed.GetAsync<string>("product:1", Token).AsTask());
        await Assert.ThrowsAsync<InvalidOperationException>(() => host.Backed.RefreshAsync("order:1", Token).AsTask());
    }

    [Fact]
    public async Task GetAsync_LongestPrefixWins_AndLoaderFailureIsNotCached()
    {
        var calls = 0;
        await using var host = await StrategyHost.StartAsync(redis.ConnectionString, TestKeys.NewPrefix(), c => c
            .WithReadThrough<string>("a:", (key, _) => ValueTask.FromResult("short " + key))
            .WithReadThrough<string>("a:b:", (key, _) => Interlocked.Increment(ref calls) == 1
                ? throw new InvalidDataException("database down")
                : ValueTask.FromResult("long " + key)));

        var shortPrefix = await host.Backed.GetAsync<string>("a:x", Token);
        await Assert.ThrowsAsync<InvalidDataException>(() => host.Backed.GetAsync<string>("a:b:1", Token).AsTask());
        var retried = await host.Backed.GetAsync<string>("a:b:1", Token);

        Assert.Equal("short a:x", shortPrefix.Value);
        Assert.Equal(("long a:b:1", CacheSource.Factory), (retried.Value, retried.Source));
        Assert.Equal(2, calls);
        Assert.True(host.Backed.HasLoader("a:b:2"));
        Assert.False(host.Backed.HasLoader("b:"));
    }

    [Fact]
    public async Task GetAsync_HitPastEagerRefreshThreshold_ReloadsInBackgroundWhileServingCurrentValue()
    {
        var version = 0;
        var entry = new CacheEntryOptions { TimeToLive = TimeSpan.FromSeconds(1), EagerRefreshThreshold = 0.5 };
        await using var host = await StrategyHost.StartAsync(
            redis.ConnectionString,
            TestKeys.NewPrefix(),
            c => c.WithReadThrough<int>("rate:", (_, _) => ValueTask.FromResult(Interlocked.Increment(ref version)), entry),
            [new("Coordination:Cache:EarlyRefreshBeta", "0")]); // XFetch off: only the threshold decides

        var first = await host.Backed.GetAsync<int>("rate:eur", Token);
        var early = await host.Backed.GetAsync<int>("rate:eur", Token); // before half the TTL: no refresh
        await Task.Delay(600, Token); // past half the TTL, 400 ms before expiry
        var stopwatch = Stopwatch.StartNew();
        var pastThreshold = await host.Backed.GetAsync<int>("rate:eur", Token); // served at once, refresh starts
        var servedIn = stopwatch.Elapsed;
        await ProcessUtil.WaitUntilAsync(async () => (await host.Backed.GetAsync<int>("rate:eur", Token)).Value == 2, TimeSpan.FromSeconds(2), "the background refresh", Token);
        await Task.Delay(100, Token);

        Output.WriteLine($"[measure] refresh-ahead: hit past the threshold served in {servedIn.TotalMilliseconds:F2} ms, loader calls {version}");
        Assert.Equal((1, CacheSource.Factory), (first.Value, first.Source));
        Assert.Equal((1, CacheSource.Memory), (early.Value, early.Source));
        Assert.Equal(1, pastThreshold.Value);
        Assert.Equal(2, Volatile.Read(ref version)); // exactly one refresh, and the entry was never missing
    }

    [Fact]
    public async Task SetAsync_WriteThrough_WritesPostgresBeforeCache_AndThrowingWriterLeavesCacheUnchanged()
    {
        await using var table = await TableAsync();
        var prefix = TestKeys.NewPrefix();
        var fail = false;
        StrategyHost? host = null;
        CacheResult<int> seenByWriter = default;
        host = await StrategyHost.StartAsync(redis.ConnectionString, prefix, c => c
            .WithReadThrough<int>("stock:", table.LoadAsync)
            .WithWriteThrough<int>("stock:", async (writes, ct) =>
            {
                seenByWriter = await host!.Cache.GetAsync<int>(writes[0].Key, ct);
                if (Volatile.Read(ref fail))
                {
                    throw new InvalidDataException("constraint violated");
                }

                await table.UpsertAsync(writes, ct);
            }));
        await using var _ = host;
        await using var other = await StrategyHost.StartAsync(redis.ConnectionString, prefix, _ => { }, hostName: "plain");

        await host.Backed.SetAsync("stock:a", 10, Token);
        var writerSawBefore = seenByWriter;
        Volatile.Write(ref fail, true);
        var thrown = await Assert.ThrowsAsync<InvalidDataException>(() => host.Backed.SetAsync("stock:a", 99, Token).AsTask());

        var rows = await table.ReadAllAsync(Token);
        var local = await host.Backed.GetAsync<int>("stock:a", Token);
        var remote = await other.Cache.GetAsync<int>("stock:a", Token);

        Assert.False(writerSawBefore.HasValue); // the writer ran before the cache had the value
        Assert.Equal("constraint violated", thrown.Message);
        Assert.Equal(10, rows["stock:a"]);
        Assert.Equal((10, CacheSource.Memory), (local.Value, local.Source));
        Assert.Equal((10, CacheSource.Redis), (remote.Value, remote.Source));
        Assert.Equal(0, table.LoadCalls); // the write-through filled the cache: no read-through load
    }

    [Fact]
    public async Task SetAsync_SecondWriterForOnePrefix_FailsTheStart()
    {
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => StrategyHost.StartAsync(redis.ConnectionString, TestKeys.NewPrefix(), c => c
            .WithWriteThrough<int>("dup:", (_, _) => ValueTask.CompletedTask)
            .WithWriteBehind<int>("dup:", (_, _) => ValueTask.CompletedTask)));

        Assert.Contains("'dup:'", ex.Message, StringComparison.Ordinal);
    }
}
