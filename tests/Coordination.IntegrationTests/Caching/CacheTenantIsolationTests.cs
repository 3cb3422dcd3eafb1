using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// One tenant's invalidation traffic against another's memory level: each tenant has its own invalidation log, so a
/// tenant that trims its log clears only its own memory level on a node that missed messages, and removes of absent
/// keys neither grow a log nor reach the other nodes.
/// </summary>
public sealed class CacheTenantIsolationTests(SharedRedisFixture redis)
{
    private const string Hostile = "tenant-a";
    private const string Victim = "tenant-b";

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task TenantTrimsItsLog_WhileNodeCutOff_OnlyThatTenantsMemoryIsCleared()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var proxy = TcpProxy.Start(server.Port);
        KeyValuePair<string, string?>[] settings = [.. FailureSettings.Fast, new("Coordination:Cache:InvalidationLogLength", "5")];
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1, settings);
        await hosts.AddAsync(proxy.ConnectionString, settings);
        var writerA = Tenant(hosts, 0, Hostile);
        var writerB = Tenant(hosts, 0, Victim);
        var readerA = Tenant(hosts, 1, Hostile);
        var readerB = Tenant(hosts, 1, Victim);
        await ProcessUtil.WaitUntilAsync(
            () => readerA.Runtime.OffsetOf(Hostile) is not null && readerB.Runtime.OffsetOf(Victim) is not null,
            TimeSpan.FromSeconds(10),
            "the cut-off node to follow both tenants' logs",
            Token);

        var keys = Enumerable.Range(0, 5).Select(i => $"k{i}").ToArray();
        foreach (var key in keys)
        {
            await writerA.SetAsync(key, "a-" + key, cancellationToken: Token);
            await writerB.SetAsync(key, "b-" + key, cancellationToken: Token);
        }

        // The writes' own messages must have arrived, or they would evict what the node reads next.
        await ProcessUtil.WaitUntilAsync(() => readerB.Runtime.MessageCount >= 2 * keys.Length, TimeSpan.FromSeconds(5), "the setup's backplane messages", Token);
        foreach (var key in keys)
        {
            await ProcessUtil.WaitUntilAsync(async () => (await readerA.GetAsync<string>(key, Token)).HasValue && readerA.MemoryContains(key), TimeSpan.FromSeconds(5), $"{Hostile} {key} in memory", Token);
            await ProcessUtil.WaitUntilAsync(async () => (await readerB.GetAsync<string>(key, Token)).HasValue && readerB.MemoryContains(key), TimeSpan.FromSeconds(5), $"{Victim} {key} in memory", Token);
        }

        // The node has applied both logs up to their ends: what it misses from now on is what the cut hides.
        var admin = (await server.GetAdminAsync()).GetDatabase();
        foreach (var reader in new[] { readerA, readerB })
        {
            var last = (await admin.StreamRangeAsync(reader.Runtime.LogKeyOf(reader.Tenant), "-", "+", 1, Order.Descending)).Single().Id;
            await ProcessUtil.WaitUntilAsync(() => reader.Runtime.OffsetOf(reader.Tenant) == last, TimeSpan.FromSeconds(5), $"the node to read {reader.Tenant}'s log", Token);
        }

        proxy.Cut();
        // The hostile tenant invalidates four times as often as its log reaches back; the victim changes one key.
        for (var i = 0; i < 20; i++)
        {
            await writerA.SetAsync($"flood{i}", i, cancellationToken: Token);
        }

        await writerB.SetAsync("k0", "b-changed", cancellationToken: Token);
        var catchUps = readerB.Runtime.CatchUpCount;
        var clears = readerB.Runtime.MemoryClearCount;
        proxy.Restore();
        await ProcessUtil.WaitUntilAsync(() => readerB.Runtime.CatchUpCount > catchUps, TimeSpan.FromSeconds(15), "the node to read the invalidation logs", Token);

        Assert.Equal(clears + 1, readerB.Runtime.MemoryClearCount);
        Assert.All(keys, key => Assert.False(readerA.MemoryContains(key), $"{Hostile} {key} should have been cleared."));
        Assert.Equal("b-changed", (await readerB.GetAsync<string>("k0", Token)).Value);
        var started = Stopwatch.GetTimestamp();
        var served = new List<CacheResult<string>>();
        foreach (var key in keys[1..])
        {
            served.Add(await readerB.GetAsync<string>(key, Token));
        }

        Output.WriteLine($"[measure] {served.Count} reads of the other tenant after the trimmed tenant's catch-up: {Stopwatch.GetElapsedTime(started).TotalMicroseconds:F0} us in all, sources {string.Join(",", served.Select(s => s.Source))}");
        Assert.Equal(keys[1..].Select(key => ((string?)("b-" + key), CacheSource.Memory)), served.Select(s => (s.Value, s.Source)));
        Assert.Equal("a-k1", (await readerA.GetAsync<string>("k1", Token)).Value);
    }

    [Fact]
    public async Task RemoveAsync_AbsentKeys_AppendAndPublishNothing_PresentKeyReachesOtherNode()
    {
        await using var hosts = await CacheHosts.StartAsync(redis.ConnectionString, 2);
        var writer = hosts.Cache(0);
        var reader = hosts.Cache(1);
        var admin = await redis.GetAdminAsync();
        var published = 0;
        var channel = RedisChannel.Literal(writer.Runtime.Channel);
        await admin.GetSubscriber().SubscribeAsync(channel, (_, _) => Interlocked.Increment(ref published));
        try
        {
            await writer.SetAsync("present", "v", cancellationToken: Token);
            await ProcessUtil.WaitUntilAsync(() => Volatile.Read(ref published) == 1, TimeSpan.FromSeconds(5), "the write's message", Token);
            await ProcessUtil.WaitUntilAsync(async () => (await reader.GetAsync<string>("present", Token)).Source == CacheSource.Memory, TimeSpan.FromSeconds(5), "the other node's memory level to fill", Token);
            var log = (RedisKey)writer.Runtime.LogKeyOf(writer.Tenant);
            var length = await admin.GetDatabase().StreamLengthAsync(log);
            var messages = reader.Runtime.MessageCount;

            for (var i = 0; i < 100; i++)
            {
                await writer.RemoveAsync($"absent{i}", Token);
            }

            Assert.Equal(length, await admin.GetDatabase().StreamLengthAsync(log));
            // Messages go out in the order of the scripts that send them: once the present key's removal arrived,
            // whatever the absent ones had sent would have arrived before it.
            await writer.RemoveAsync("present", Token);
            await ProcessUtil.WaitUntilAsync(() => !reader.MemoryContains("present"), TimeSpan.FromSeconds(5), "the removal to reach the other node", Token);
            await ProcessUtil.WaitUntilAsync(() => Volatile.Read(ref published) >= 2, TimeSpan.FromSeconds(5), "the removal's message", Token);

            Assert.Equal(2, Volatile.Read(ref published));
            Assert.Equal(messages + 1, reader.Runtime.MessageCount);
            Assert.Equal(length + 1, await admin.GetDatabase().StreamLengthAsync(log));
            Assert.False((await reader.GetAsync<string>("present", Token)).HasValue);
        }
        finally
        {
            await admin.GetSubscriber().UnsubscribeAsync(channel);
        }
    }

    [Fact]
    public async Task RemoveAsync_ValueOnlyInThisNodesMemory_IsEvictedThoughRedisHasNothing()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var proxy = TcpProxy.Start(server.Port);
        await using var hosts = await CacheHosts.StartAsync(proxy.ConnectionString, 1, FailureSettings.Fast);
        var cache = hosts.Cache(0);

        proxy.Cut();
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => cache.SetAsync("local", "only here", cancellationToken: Token).AsTask());
        Assert.True(cache.MemoryContains("local"));
        proxy.Restore();

        var removed = false;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await cache.RemoveAsync("local", Token);
                    return removed = true;
                }
                catch (CoordinationUnavailableException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(15),
            "a remove that reaches Redis",
            Token,
            TimeSpan.FromMilliseconds(100));

        var admin = (await server.GetAdminAsync()).GetDatabase();
        Assert.True(removed);
        Assert.False(cache.MemoryContains("local"));
        Assert.False((await cache.GetAsync<string>("local", Token)).HasValue);
        Assert.False(await admin.KeyExistsAsync(cache.RedisKey("local")));
    }

    private static RedisCacheManager Tenant(CacheHosts hosts, int node, string tenant) => (RedisCacheManager)hosts[node].Factory.ForTenant(tenant).Cache;
}
