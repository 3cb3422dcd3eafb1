using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// Mutual exclusion under heavy contention across two hosts with their own connections, and how fast a waiter
/// takes over a released lock (pub/sub wake-up, one subscription per connection).
/// </summary>
public sealed class LockContentionTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task AcquireAsync_64WorkersOnTwoHosts_CounterExactNoOverlapFencingIncreasing()
    {
        const int Workers = 64;
        const int Increments = 5000;
        await using var hosts = await LockHosts.StartAsync(redis.ConnectionString);
        var options = new LockOptions { TimeToLive = TimeSpan.FromSeconds(30), WaitTimeout = TimeSpan.FromSeconds(60) };
        var remaining = Increments;
        var inside = 0;
        var overlaps = 0;
        var entered = 0;
        var fences = new long[Increments];
        var perHost = new int[2];

        async Task WorkAsync(int worker)
        {
            var host = hosts[worker % 2];
            var locks = hosts.Locks(worker % 2);
            while (Interlocked.Decrement(ref remaining) >= 0)
            {
                await using var handle = await locks.AcquireAsync("counter", options, Token);
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                fences[Interlocked.Increment(ref entered) - 1] = handle.FencingToken;
                Interlocked.Increment(ref perHost[worker % 2]);

                await LockTestFlows.IncrementUnguardedAsync(host.Coordinator, "counter", Token);
                Interlocked.Decrement(ref inside);
            }
        }

        var clock = Stopwatch.StartNew();
        var errors = await LockTestFlows.RunWorkersAsync(Workers, WorkAsync, TimeSpan.FromSeconds(90), Token);
        clock.Stop();

        Assert.Empty(errors);
        Assert.Equal(0, overlaps);
        Assert.Equal(Increments, entered);
        Assert.Equal(Increments, (await hosts[0].Coordinator.GetAsync<long>("counter", Token)).Value);
        for (var i = 1; i < fences.Length; i++)
        {
            Assert.True(fences[i] > fences[i - 1], $"Fencing token {fences[i]} at entry {i} is not above {fences[i - 1]} at entry {i - 1}.");
        }

        Output.WriteLine($"[measure] {Increments} exclusive critical sections by {Workers} workers on 2 hosts in {clock.Elapsed.TotalSeconds:F2} s " +
            $"({Increments / clock.Elapsed.TotalSeconds:F0}/s; host0 {perHost[0]}, host1 {perHost[1]}), 0 overlaps, fencing strictly increasing");
    }

    [Fact]
    public async Task ReleaseAsync_WaiterOnOtherHost_TakesOverWithinMilliseconds()
    {
        const int Handoffs = 200;

        // Re-checks are made rare, so a wake-up that did not come from the release message would show as ~2 s.
        await using var hosts = await LockHosts.StartAsync(redis.ConnectionString, settings: [new("Coordination:Locks:RecheckInterval", "00:00:02")]);
        var waitOptions = new LockOptions { WaitTimeout = TimeSpan.FromSeconds(10) };
        var latencies = new List<double>(Handoffs);
        var handle = await hosts.Locks(0).AcquireAsync("baton", cancellationToken: Token);
        for (var i = 0; i < Handoffs; i++)
        {
            var next = hosts.Locks((i + 1) % 2);
            long acquiredAt = 0;
            var waiter = LockTestFlows.UnrelatedAsync(async () =>
            {
                var taken = await next.AcquireAsync("baton", waitOptions, Token);
                acquiredAt = Stopwatch.GetTimestamp();
                return taken;
            });
            await ProcessUtil.WaitUntilAsync(
                async () => (await next.GetInfoAsync("baton", Token))!.Waiters == 1, TimeSpan.FromSeconds(5), "the waiter to wait", Token, TimeSpan.FromMilliseconds(1));

            var releasedAt = Stopwatch.GetTimestamp();
            await handle.ReleaseAsync(Token);
            handle = await waiter.WaitAsync(TimeSpan.FromSeconds(5), Token);
            latencies.Add(Stopwatch.GetElapsedTime(releasedAt, acquiredAt).TotalMilliseconds);
        }

        await handle.DisposeAsync();
        var p50 = Latency.Percentile(latencies, 50);
        var p99 = Latency.Percentile(latencies, 99);
        Output.WriteLine($"[measure] hand-off latency (release call start -> waiter on the other host holds the lock), {Handoffs} hand-offs: " +
            $"p50 {Latency.Format(p50)}, p99 {Latency.Format(p99)}, max {Latency.Format(latencies.Max())}");
        Assert.True(p50 < 10, $"p50 {p50:F3} ms: waiters must wake on the release, not by polling.");
        Assert.True(p99 < 250, $"p99 {p99:F3} ms: waiters must wake on the release, not at the 2 s re-check.");
    }

    [Fact]
    public async Task Waiters_ManyLocksOnOneHost_OneSubscriptionPerConnection()
    {
        await using var hosts = await LockHosts.StartAsync(redis.ConnectionString);
        var held = new List<ILockHandle>();
        for (var i = 0; i < 20; i++)
        {
            held.Add(await hosts.Locks(0).AcquireAsync($"many-{i}", cancellationToken: Token));
        }

        var waiting = Enumerable.Range(0, 20)
            .Select(i => LockTestFlows.UnrelatedAsync(() => hosts.Locks(i % 2).AcquireAsync($"many-{i}", new LockOptions { WaitTimeout = TimeSpan.FromSeconds(10) }, Token).AsTask()))
            .ToArray();
        await ProcessUtil.WaitUntilAsync(
            async () => (await Task.WhenAll(Enumerable.Range(0, 20).Select(i => hosts.Locks(0).GetInfoAsync($"many-{i}", Token).AsTask()))).All(info => info!.Waiters == 1),
            TimeSpan.FromSeconds(5),
            "20 waiters",
            Token);

        // Subscriptions are per node (on a cluster, each on the node the client chose): counted over every primary.
        var primaries = (await redis.GetAdminAsync()).Primaries();
        var channel = hosts[0].KeyPrefix + ":lock-released";
        var subscribers = (await Task.WhenAll(primaries.Select(async primary => (long)((RedisResult[])(await primary.ExecuteAsync("PUBSUB", "NUMSUB", channel))!)[1]))).Sum();
        var channels = (await Task.WhenAll(primaries.Select(async primary => (string[])(await primary.ExecuteAsync("PUBSUB", "CHANNELS", hosts[0].KeyPrefix + "*"))!))).SelectMany(c => c).Distinct().ToArray();
        Assert.Equal(2, subscribers);
        Assert.Single(channels);

        foreach (var handle in held)
        {
            await handle.ReleaseAsync(Token);
        }

        foreach (var acquired in await Task.WhenAll(waiting).WaitAsync(TimeSpan.FromSeconds(5), Token))
        {
            await acquired.DisposeAsync();
        }

        Output.WriteLine($"[measure] 20 waiters on 20 locks over 2 hosts: {subscribers} subscriptions to the release channel");
    }
}
