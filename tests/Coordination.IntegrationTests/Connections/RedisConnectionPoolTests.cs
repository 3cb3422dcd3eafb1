using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Connections;

/// <summary>The connection pool against a real server of the test's own: sizing under load and dropped connections.</summary>
public sealed class RedisConnectionPoolTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task Pool_HeavyLoadThenIdle_GrowsThenShrinksBackToMinimum()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings:
            [
                new("Coordination:Pool:MinConnections", "1"),
                new("Coordination:Pool:MaxConnections", "4"),
                new("Coordination:Pool:GrowThreshold", "4"),
                new("Coordination:Pool:ScaleInterval", "00:00:00.100"),
                new("Coordination:Pool:ShrinkAfterIdle", "00:00:01"),
            ]);
        var coordinator = host.Coordinator;
        Assert.Equal(1, (await host.Monitor.GetStatusAsync(Token)).Pool.Size);
        Assert.Equal(1, await CountPoolConnectionsAsync(redis));

        var errors = new ConcurrentQueue<Exception>();
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(Token);
        stopLoad.CancelAfter(TimeSpan.FromSeconds(20));
        async Task WorkerAsync(int worker)
        {
            var i = 0;
            while (!stopLoad.IsCancellationRequested)
            {
                try
                {
                    await coordinator.SetAsync($"load-{worker}", ++i, cancellationToken: CancellationToken.None);
                    var read = await coordinator.GetAsync<int>($"load-{worker}", CancellationToken.None);
                    if (read.Value != i)
                    {
                        errors.Enqueue(new InvalidOperationException($"worker {worker} wrote {i} and read {read.Value}"));
                    }
                }
#pragma warning disable CA1031 // Collected and asserted on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    errors.Enqueue(ex);
                }
            }
        }

        var clock = Stopwatch.StartNew();
        var load = Enumerable.Range(0, 64).Select(w => Task.Run(() => WorkerAsync(w), CancellationToken.None)).ToArray();
        var maxSize = 0;
        await ProcessUtil.WaitUntilAsync(
            () =>
            {
                maxSize = Math.Max(maxSize, host.Executor.Pool.Size);
                return maxSize == 4;
            },
            TimeSpan.FromSeconds(15),
            "the pool to grow to MaxConnections under load",
            Token,
            TimeSpan.FromMilliseconds(10));
        var grewIn = clock.Elapsed;
        await Task.Delay(TimeSpan.FromMilliseconds(200), Token); // the newest connection gets its share of the load
        var loaded = await host.Monitor.GetStatusAsync(Token);
        var serverSide = await CountPoolConnectionsAsync(redis);
        await stopLoad.CancelAsync();
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(10), Token);

        Assert.Empty(errors);
        Assert.Equal(4, loaded.Pool.Size);
        Assert.Equal(4, loaded.Pool.MaxConnections);
        Assert.Equal(4, loaded.Pool.Connections.Select(c => c.Id).Distinct().Count());
        Assert.Equal(4, serverSide);
        Assert.All(loaded.Pool.Connections, c => Assert.True(c.Operations > 0, $"connection {c.Id} carried no operation"));

        var idleFrom = Stopwatch.GetTimestamp();
        await ProcessUtil.WaitUntilAsync(() => host.Executor.Pool.Size == 1, TimeSpan.FromSeconds(15), "the pool to shrink to MinConnections", Token);
        var shrankIn = Stopwatch.GetElapsedTime(idleFrom);
        await ProcessUtil.WaitUntilAsync(async () => await CountPoolConnectionsAsync(redis) == 1, TimeSpan.FromSeconds(5), "the removed connections to close", Token);
        Output.WriteLine($"[measure] pool: grew 1 -> 4 in {grewIn.TotalMilliseconds:F0} ms of load; shrank 4 -> 1 in {shrankIn.TotalMilliseconds:F0} ms of idleness (ShrinkAfterIdle 1 s)");

        // It never shrinks below the minimum, and the remaining connection serves.
        await Task.Delay(TimeSpan.FromSeconds(1.5), Token);
        Assert.Equal(1, host.Executor.Pool.Size);
        await coordinator.SetAsync("after-shrink", "ok", cancellationToken: Token);
        Assert.Equal("ok", (await coordinator.GetAsync<string>("after-shrink", Token)).Value);
    }

    [Fact]
    public async Task Pool_ConnectionsKilledByServer_ReconnectsAndCallsSucceedAgain()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings:
            [
                new("Coordination:Pool:MinConnections", "2"),
                new("Coordination:Pool:MaxConnections", "2"),
            ]);
        var coordinator = host.Coordinator;
        var lost = 0;
        var restored = 0;
        host.Events.ConnectionLost += (_, _) => Interlocked.Increment(ref lost);
        host.Events.ConnectionRestored += (_, _) => Interlocked.Increment(ref restored);
        await coordinator.SetAsync("k", "before", cancellationToken: Token);
        Assert.Equal(2, (await host.Monitor.GetStatusAsync(Token)).Pool.Connected);

        var admin = await redis.GetAdminAsync();
        var killed = (long)await admin.GetServer(admin.GetEndPoints()[0]).ExecuteAsync("CLIENT", "KILL", "TYPE", "normal");
        var killedAt = Stopwatch.GetTimestamp();
        Assert.True(killed >= 2, $"CLIENT KILL closed {killed} connections");

        var failures = 0;
        TimeSpan? firstSuccess = null;
        while (firstSuccess is null)
        {
            Assert.True(Stopwatch.GetElapsedTime(killedAt) < TimeSpan.FromSeconds(10), "No call succeeded within 10 s of the connections being killed.");
            try
            {
                Assert.Equal("before", (await coordinator.GetAsync<string>("k", Token)).Value);
                firstSuccess = Stopwatch.GetElapsedTime(killedAt);
            }
            catch (CoordinationUnavailableException)
            {
                failures++;
                await Task.Delay(10, Token);
            }
        }

        await ProcessUtil.WaitUntilAsync(
            async () => (await host.Monitor.GetStatusAsync(Token)).Pool.Connected == 2 && Volatile.Read(ref restored) >= 2,
            TimeSpan.FromSeconds(10),
            "both connections to be restored",
            Token);
        var allBack = Stopwatch.GetElapsedTime(killedAt);
        Output.WriteLine($"[measure] client kill: first successful call {firstSuccess.Value.TotalMilliseconds:F0} ms after CLIENT KILL ({failures} calls failed before); all connections back after {allBack.TotalMilliseconds:F0} ms; lost events {lost}, restored events {restored}");

        Assert.True(Volatile.Read(ref lost) >= 2, $"ConnectionLost fired {lost} times");
        Assert.Equal(2, await CountPoolConnectionsAsync(redis));
        for (var i = 0; i < 200; i++)
        {
            await coordinator.SetAsync($"after-{i}", i, cancellationToken: Token);
            Assert.Equal(i, (await coordinator.GetAsync<int>($"after-{i}", Token)).Value);
        }

        Assert.Equal(CircuitState.Closed, (await host.Monitor.GetStatusAsync(Token)).Circuit);
    }

    /// <summary>The pool's interactive connections as the server sees them (one client name per pooled multiplexer).</summary>
    private static async Task<int> CountPoolConnectionsAsync(RedisServer redis)
    {
        var admin = await redis.GetAdminAsync();
        var clients = await admin.GetServer(admin.GetEndPoints()[0]).ClientListAsync();
        return clients.Count(c => c.ClientType == ClientType.Normal && c.Name?.StartsWith("coordination-", StringComparison.Ordinal) == true && c.Name != "coordination-it-admin");
    }
}
