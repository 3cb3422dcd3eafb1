using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// Get-or-create misses answered before their Redis write lands (<c>Coordination:Cache:BackgroundWrites</c>), and cache
/// writes combined under load (one log entry naming several keys), each test on its own redis-server where it pauses
/// or cuts Redis, over several nodes.
/// </summary>
public sealed class CacheBackgroundWriteTests(SharedRedisFixture redis)
{
    // Long enough that a write awaited by the caller would still be waiting when the test looks.
    private static readonly KeyValuePair<string, string?>[] SlowFailure =
    [
        new("Coordination:Resilience:AttemptTimeout", "00:00:10"),
    ];

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task GetOrCreateAsync_Miss_AnswersBeforeTheWriteLands_SameNodeJoins_OtherNodeReadsItOnceLanded()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 2, SlowFailure);
        var writer = hosts.Cache(0);
        var reader = hosts.Cache(1);
        var calls = 0;

        // The factory runs after the Redis read; pausing Redis there leaves the write nowhere to go.
        var started = Stopwatch.GetTimestamp();
        CacheResult<string> first;
        try
        {
            first = await writer.GetOrCreateAsync("k", async _ =>
            {
                Interlocked.Increment(ref calls);
                await server.PauseAsync();
                return "v1";
            }, cancellationToken: Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Token);
            var answered = Stopwatch.GetElapsedTime(started);
            Output.WriteLine($"[measure] miss answered {answered.TotalMilliseconds:F0} ms after the call, Redis paused in the factory");

            // Answered while Redis is paused: the write is pending, and the flight stays open until it lands.
            Assert.Equal(("v1", CacheSource.Factory), (first.Value, first.Source));
            Assert.Equal(1, writer.Runtime.PendingBackgroundWrites);
            Assert.Equal(1, writer.FlightCount);
            var again = await writer.GetOrCreateAsync("k", _ => { Interlocked.Increment(ref calls); return ValueTask.FromResult("other"); }, cancellationToken: Token);
            Assert.Equal(("v1", CacheSource.Memory), (again.Value, again.Source));
            Assert.Equal(1, calls);
        }
        finally
        {
            await server.ResumeAsync();
        }

        await ProcessUtil.WaitUntilAsync(() => writer.Runtime.PendingBackgroundWrites == 0 && writer.FlightCount == 0, TimeSpan.FromSeconds(10), "the background write to land", Token);
        var remote = await reader.GetAsync<string>("k", Token);
        Assert.Equal(("v1", CacheSource.Redis), (remote.Value, remote.Source));
        Assert.Equal(0, writer.Runtime.BackgroundWriteFailures);
        Assert.True(writer.MemoryContains("k"));
    }

    [Fact]
    public async Task GetOrCreateAsync_InvalidatedWhileItsWriteIsPending_DropsTheFlightAndKeepsNoCopyAfterTheWriteLands()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 2, SlowFailure);
        var writer = hosts.Cache(0);
        var other = hosts.Cache(1);
        try
        {
            await MissThatPausesRedisAsync(writer, server);
            Assert.True(writer.MemoryContains("k"));

            // Another node's replacement reaching this node while its own write is on the way (the message, as the
            // backplane applies it): which write Redis got last is unknown here, so this node keeps nothing of its own.
            writer.OnKeyInvalidated("k");
            Assert.Equal(0, writer.FlightCount);
            Assert.False(writer.MemoryContains("k"));
        }
        finally
        {
            await server.ResumeAsync();
        }

        await ProcessUtil.WaitUntilAsync(() => writer.Runtime.PendingBackgroundWrites == 0, TimeSpan.FromSeconds(10), "the background write to land", Token);
        Assert.False(writer.MemoryContains("k"));

        // Both nodes now serve what Redis has, and a replacement by the other node reaches this one.
        Assert.Equal(("v1", CacheSource.Redis), ((await writer.GetAsync<string>("k", Token)).Value, (await other.GetAsync<string>("k", Token)).Source));
        await other.SetAsync("k", "v2", cancellationToken: Token);
        await ProcessUtil.WaitUntilAsync(async () => (await writer.GetAsync<string>("k", Token)).Value == "v2", TimeSpan.FromSeconds(5), "the replacement to reach the writer", Token);
    }

    [Fact]
    public async Task GetOrCreateAsync_RedisCutDuringTheBackgroundWrite_CountsTheFailure_KeepsTheValue_OtherNodesStayCoherent()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var proxy = TcpProxy.Start(server.Port);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1, FailureSettings.Fast);
        var other = hosts.Cache(0);
        await hosts.AddAsync(proxy.ConnectionString, FailureSettings.Fast);
        var writer = hosts.Cache(1);

        await other.SetAsync("k", "old", cancellationToken: Token);
        await ProcessUtil.WaitUntilAsync(async () => (await other.GetAsync<string>("k", Token)).Source == CacheSource.Memory, TimeSpan.FromSeconds(5), "the other node's memory level", Token);

        var started = Stopwatch.GetTimestamp();
        var result = await writer.GetOrCreateAsync("fresh", _ =>
        {
            proxy.Cut();
            return ValueTask.FromResult("v1");
        }, cancellationToken: Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Token);
        Output.WriteLine($"[measure] miss answered {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms after the call, the node's Redis cut in the factory");
        Assert.Equal(("v1", CacheSource.Factory), (result.Value, result.Source));

        await ProcessUtil.WaitUntilAsync(() => writer.Runtime.BackgroundWriteFailures == 1 && writer.Runtime.PendingBackgroundWrites == 0, TimeSpan.FromSeconds(15), "the background write to fail", Token);
        Output.WriteLine($"[measure] background write failed {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms after the call");

        // The caller's value stays served by this node; Redis never got it, so no other node serves it.
        var local = await writer.GetOrCreateAsync("fresh", _ => ValueTask.FromResult("recomputed"), cancellationToken: Token);
        Assert.Equal(("v1", CacheSource.Memory), (local.Value, local.Source));
        Assert.False((await other.GetAsync<string>("fresh", Token)).HasValue);
        Assert.Equal("old", (await other.GetAsync<string>("k", Token)).Value);

        // Once reconnected, a write elsewhere reaches the node that failed.
        proxy.Restore();
        await other.SetAsync("fresh", "v2", cancellationToken: Token);
        await ProcessUtil.WaitUntilAsync(async () => (await writer.GetAsync<string>("fresh", Token)).Value == "v2", TimeSpan.FromSeconds(15), "the other node's write to reach the node", Token, TimeSpan.FromMilliseconds(100));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SetOrRemoveAfterAMissAnsweredBeforeItsWriteLanded_RedisKeepsTheLaterOperation(bool remove)
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 2, SlowFailure);
        var writer = hosts.Cache(0);
        var other = hosts.Cache(1);
        Task later;
        try
        {
            await MissThatPausesRedisAsync(writer, server);
            Assert.Equal(1, writer.Runtime.PendingBackgroundWrites);
            later = remove ? writer.RemoveAsync("k", Token).AsTask() : writer.SetAsync("k", "v2", cancellationToken: Token).AsTask();
        }
        finally
        {
            await server.ResumeAsync();
        }

        await later.WaitAsync(TimeSpan.FromSeconds(10), Token);
        await ProcessUtil.WaitUntilAsync(() => writer.Runtime.PendingBackgroundWrites == 0, TimeSpan.FromSeconds(10), "the background write to land", Token);
        var inRedis = await other.GetAsync<string>("k", Token);
        Assert.Equal(remove ? null : "v2", inRedis.Value);
        Assert.Equal(remove ? null : "v2", (await writer.GetAsync<string>("k", Token)).Value);
    }

    [Fact]
    public async Task GetOrCreateAsync_BackgroundWritesOff_CallerWaitsForTheWrite()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1, [.. SlowFailure, new("Coordination:Cache:BackgroundWrites", "0")]);
        var cache = hosts.Cache(0);
        var paused = false;
        try
        {
            var call = cache.GetOrCreateAsync("k", async _ =>
            {
                await server.PauseAsync();
                paused = true;
                return "v1";
            }, cancellationToken: Token).AsTask();
            await ProcessUtil.WaitUntilAsync(() => Volatile.Read(ref paused), TimeSpan.FromSeconds(5), "the factory", Token);
            await Task.Delay(200, Token); // A bound on what must not happen: the call answering while its write cannot land.
            Assert.False(call.IsCompleted);
            await server.ResumeAsync();
            Assert.Equal("v1", (await call.WaitAsync(TimeSpan.FromSeconds(10), Token)).Value);
            Assert.Equal(0, cache.Runtime.PendingBackgroundWrites);
        }
        finally
        {
            await server.ResumeAsync();
        }
    }

    [Fact]
    public async Task StartAsync_NegativeBackgroundWrites_FailsNamingIt()
    {
        var host = CoordinationTestHost.Build(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redis.ConnectionString,
            ["Coordination:KeyPrefix"] = TestKeys.NewPrefix(),
            ["Coordination:Cache:BackgroundWrites"] = "-1",
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(timeout.Token));
            Assert.Contains("BackgroundWrites", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            host.Dispose();
        }
    }

    [Fact]
    public async Task CombinedWrites_OneLogEntryNamesSeveralKeys_EveryOtherNodeEvictsEachKey_LivePublishAndLogReplay()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var proxy = TcpProxy.Start(server.Port);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 2, FailureSettings.Fast);
        await hosts.AddAsync(proxy.ConnectionString, FailureSettings.Fast);
        var writer = hosts.Cache(0);
        var live = hosts.Cache(1);
        var cutOff = hosts.Cache(2);
        var keys = Enumerable.Range(0, 200).Select(i => $"k{i}").ToArray();

        foreach (var key in keys)
        {
            await writer.SetAsync(key, "old", cancellationToken: Token);
        }

        foreach (var node in new[] { live, cutOff })
        {
            await ProcessUtil.WaitUntilAsync(() => node.Runtime.MessageCount >= keys.Length, TimeSpan.FromSeconds(10), "the setup's messages", Token);
            foreach (var key in keys)
            {
                await ProcessUtil.WaitUntilAsync(async () => (await node.GetAsync<string>(key, Token)).Source == CacheSource.Memory, TimeSpan.FromSeconds(5), $"{key} in memory", Token);
            }
        }

        proxy.Cut();
        var combinedBefore = writer.Runtime.Writes.Combined;
        // Started from one loop without awaiting: the first write is in flight while the others arrive, so they combine
        // however busy the thread pool is (tasks started one by one on a loaded machine could each find Redis idle).
        await Task.WhenAll(keys.Select(key => writer.SetAsync(key, "new", cancellationToken: Token).AsTask()).ToArray());
        var combined = writer.Runtime.Writes.Combined - combinedBefore;
        Output.WriteLine($"[measure] {combined} of {keys.Length} concurrent writes went out combined");
        Assert.True(combined > 0, "no write was combined");

        // Live: the combined entries' messages evict every key.
        await ProcessUtil.WaitUntilAsync(async () => await AllAsync(live, keys, "new"), TimeSpan.FromSeconds(20), "the live node to see every new value", Token);

        // Cut off: the messages were lost; replaying the log (entries naming several keys) evicts every key.
        Assert.Equal("old", (await cutOff.GetAsync<string>(keys[0], Token)).Value);
        var catchUps = cutOff.Runtime.CatchUpCount;
        proxy.Restore();
        await ProcessUtil.WaitUntilAsync(() => cutOff.Runtime.CatchUpCount > catchUps, TimeSpan.FromSeconds(30), "the cut-off node to read the log", Token);
        Assert.Equal(0, cutOff.Runtime.MemoryClearCount);
        Assert.True(await AllAsync(cutOff, keys, "new"), "the cut-off node serves an old value after replaying the log");
    }

    [Fact]
    public void TrySplitMessage_KeepsNewlinesOfTheArgument()
    {
        Span<Range> parts = stackalloc Range[5];
        const string Message = "1-0\nnode\nm\ntenant\na\nb\nc";

        Assert.True(CacheRuntime.TrySplitMessage(Message, parts));
        Assert.Equal("m", Message[parts[2]]);
        Assert.Equal("tenant", Message[parts[3]]);
        Assert.Equal("a\nb\nc", Message[parts[4]]);
        Assert.False(CacheRuntime.TrySplitMessage("1-0\nnode\nk", parts));
    }

    /// <summary>A miss of <c>k</c> whose factory pauses Redis: answered with <c>v1</c>, its background write left waiting.</summary>
    private static async Task MissThatPausesRedisAsync(RedisCacheManager cache, RedisServer server)
    {
        var answer = await cache.GetOrCreateAsync("k", async _ =>
        {
            await server.PauseAsync();
            return "v1";
        }, cancellationToken: Token);
        Assert.Equal("v1", answer.Value);
    }

    private static async Task<bool> AllAsync(RedisCacheManager cache, string[] keys, string expected)
    {
        foreach (var key in keys)
        {
            if ((await cache.GetAsync<string>(key, Token)).Value != expected)
            {
                return false;
            }
        }

        return true;
    }
}
