using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Caching;

/// <summary>
/// The cache under failure, each test on its own redis-server: fail-safe while Redis is paused, and a node cut off
/// from Redis (through a TCP proxy) while the others invalidate, which replays the log or clears its memory level.
/// </summary>
public sealed class CacheFailureTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task GetOrCreateAsync_RedisPausedAndFactoryThrows_ServesStaleThenFreshAfterRecovery()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1, [.. FailureSettings.Fast, new("Coordination:Cache:FailSafeWindow", "00:01:00")]);
        var cache = hosts.Cache(0);
        var options = new CacheEntryOptions { TimeToLive = TimeSpan.FromMilliseconds(300) };
        Assert.Equal("v1", (await cache.GetOrCreateAsync("fs", _ => ValueTask.FromResult("v1"), options, Token)).Value);
        await Task.Delay(400, Token);

        await server.PauseAsync();
        CacheResult<string> stale;
        var started = Stopwatch.GetTimestamp();
        try
        {
            stale = await cache.GetOrCreateAsync<string>("fs", _ => throw new InvalidOperationException("source down"), options, Token);
        }
        finally
        {
            await server.ResumeAsync();
        }

        Output.WriteLine($"[measure] stale value served {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms into a Redis pause with a failing factory");
        Assert.Equal(("v1", true), (stale.Value, stale.IsStale));

        CacheResult<string> fresh = default;
        await ProcessUtil.WaitUntilAsync(
            async () => (fresh = await cache.GetOrCreateAsync("fs", _ => ValueTask.FromResult("v2"), options, Token)).Value == "v2",
            TimeSpan.FromSeconds(10),
            "a fresh value after recovery",
            Token,
            TimeSpan.FromMilliseconds(100));
        Assert.False(fresh.IsStale);
    }

    [Fact]
    public async Task GetOrCreateAsync_FactoryFailsWithoutStaleValue_Throws_AndHardTimeoutThrowsTimeout()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1);
        var cache = hosts.Cache(0);

        await Assert.ThrowsAsync<InvalidOperationException>(() => cache.GetOrCreateAsync<int>("none", _ => throw new InvalidOperationException(), cancellationToken: Token).AsTask());
        var timeout = await Assert.ThrowsAsync<CacheFactoryTimeoutException>(() => cache.GetOrCreateAsync(
            "slow",
            async ct =>
            {
                await Task.Delay(1000, ct);
                return 1;
            },
            new CacheEntryOptions { FactoryHardTimeout = TimeSpan.FromMilliseconds(100) },
            Token).AsTask());
        Assert.Equal(TimeSpan.FromMilliseconds(100), timeout.Timeout);

        // The late result is still cached.
        await ProcessUtil.WaitUntilAsync(async () => (await cache.GetAsync<int>("slow", Token)).HasValue, TimeSpan.FromSeconds(5), "the late factory result", Token);
    }

    [Fact]
    public async Task GetOrCreateAsync_SoftTimeoutWithStaleValue_ServesStaleAndCompletesInBackground()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1, [new("Coordination:Cache:FailSafeWindow", "00:01:00")]);
        var cache = hosts.Cache(0);
        var options = new CacheEntryOptions { TimeToLive = TimeSpan.FromMilliseconds(200), FactorySoftTimeout = TimeSpan.FromMilliseconds(50) };
        await cache.GetOrCreateAsync("soft", _ => ValueTask.FromResult(1), options, Token);
        await Task.Delay(300, Token);

        var result = await cache.GetOrCreateAsync(
            "soft",
            async ct =>
            {
                await Task.Delay(300, ct);
                return 2;
            },
            options,
            Token);

        Assert.Equal((1, true), (result.Value, result.IsStale));
        await ProcessUtil.WaitUntilAsync(async () => (await cache.GetAsync<int>("soft", Token)).Value == 2, TimeSpan.FromSeconds(5), "the background factory", Token);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task NodeCutOff_WhileOthersInvalidate_ServesNoInvalidatedValueAfterReconnect(bool logTrimmed)
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var proxy = TcpProxy.Start(server.Port);
        KeyValuePair<string, string?>[] settings = [.. FailureSettings.Fast, new("Coordination:Cache:InvalidationLogLength", logTrimmed ? "5" : "1000")];
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 1, settings);
        var writer = hosts.Cache(0);
        await hosts.AddAsync(proxy.ConnectionString, settings);
        var cutOff = hosts.Cache(1);

        var tagged = new CacheEntryOptions { Tags = ["t"] };
        await writer.SetAsync("changed", "old", cancellationToken: Token);
        await writer.SetAsync("removed", "old", cancellationToken: Token);
        await writer.SetAsync("tagged", "old", tagged, Token);
        await writer.SetAsync("untouched", "same", cancellationToken: Token);
        // The writes' own invalidation messages must have arrived, or they would evict what the node reads next.
        await ProcessUtil.WaitUntilAsync(() => cutOff.Runtime.MessageCount >= 4, TimeSpan.FromSeconds(5), "the setup's backplane messages", Token);
        foreach (var key in new[] { "changed", "removed", "tagged", "untouched" })
        {
            await ProcessUtil.WaitUntilAsync(async () => (await cutOff.GetAsync<string>(key, Token)).HasValue && cutOff.MemoryContains(key), TimeSpan.FromSeconds(5), $"{key} in memory", Token);
        }

        proxy.Cut();
        await writer.SetAsync("changed", "new", cancellationToken: Token);
        await writer.RemoveAsync("removed", Token);
        await writer.InvalidateTagsAsync(["t"], Token);
        if (logTrimmed)
        {
            for (var i = 0; i < 20; i++)
            {
                await writer.SetAsync($"filler{i}", i, cancellationToken: Token);
            }
        }

        // Cut off, the node still serves its memory level (nothing told it otherwise).
        Assert.Equal("old", (await cutOff.GetAsync<string>("changed", Token)).Value);
        var catchUps = cutOff.Runtime.CatchUpCount;
        var clears = cutOff.Runtime.MemoryClearCount;
        proxy.Restore();
        var started = Stopwatch.GetTimestamp();
        await ProcessUtil.WaitUntilAsync(() => cutOff.Runtime.CatchUpCount > catchUps, TimeSpan.FromSeconds(15), "the node to read the invalidation log", Token);
        Output.WriteLine($"[measure] cut-off node caught up {Stopwatch.GetElapsedTime(started).TotalMilliseconds:F0} ms after reconnection (log {(logTrimmed ? "trimmed: memory cleared" : "replayed")})");

        Assert.Equal(logTrimmed, cutOff.Runtime.MemoryClearCount > clears);
        Assert.Equal("new", (await cutOff.GetAsync<string>("changed", Token)).Value);
        Assert.False((await cutOff.GetAsync<string>("removed", Token)).HasValue);
        Assert.False((await cutOff.GetAsync<string>("tagged", Token)).HasValue);
        Assert.Equal("same", (await cutOff.GetAsync<string>("untouched", Token)).Value);
    }

    [Fact]
    public async Task RedisRestartedEmpty_WriteOnOneNode_OtherNodeStopsServingItsOldValueWithinTheLogPoll()
    {
        // Issue 13, "Cache after a loss": the other node holds the value in memory from before the loss; after it,
        // a write on the first node must reach it through pub/sub or, if that message is missed while it
        // reconnects, through the tenant's log, which restarted empty (ids after the node's offset: replayed).
        await using var server = await RedisServer.StartAsync(Token);
        KeyValuePair<string, string?>[] settings = [.. FailureSettings.Fast, new("Coordination:Cache:InvalidationLogPollInterval", "00:00:00.500")];
        await using var hosts = await CacheHosts.StartAsync(server.ConnectionString, 2, settings);
        var writer = hosts.Cache(0);
        var reader = hosts.Cache(1);
        await writer.SetAsync("k", "before the loss", cancellationToken: Token);
        await ProcessUtil.WaitUntilAsync(async () => (await reader.GetAsync<string>("k", Token)).HasValue && reader.MemoryContains("k"), TimeSpan.FromSeconds(5), "k in the reader's memory", Token);

        await server.KillAsync();
        await server.RestartAsync(Token);
        await ProcessUtil.WaitUntilAsync(async () =>
        {
            try
            {
                await writer.SetAsync("k", "after the loss", cancellationToken: Token);
                return true;
            }
            catch (CoordinationUnavailableException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(15), "a write after the restart", Token, TimeSpan.FromMilliseconds(50));

        var written = Stopwatch.GetTimestamp();
        await ProcessUtil.WaitUntilAsync(async () => (await reader.GetAsync<string>("k", Token)).Value == "after the loss", TimeSpan.FromSeconds(10), "the reader to serve the new value", Token, TimeSpan.FromMilliseconds(20));
        var elapsed = Stopwatch.GetElapsedTime(written);
        Output.WriteLine($"[measure] the other node served the value written after the restart {elapsed.TotalMilliseconds:F0} ms after the write");
        Assert.True(elapsed < TimeSpan.FromSeconds(3), $"The other node served its pre-loss value for {elapsed.TotalMilliseconds:F0} ms after the write.");
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal("after the loss", (await reader.GetAsync<string>("k", Token)).Value);
        }
    }
}
