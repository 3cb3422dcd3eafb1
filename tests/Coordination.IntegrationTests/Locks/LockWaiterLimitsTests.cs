using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// The bounds on waiters (issue 12, finding 2): one tenant opening waits beyond <c>MaxWaitersPerTenant</c> and
/// <c>MaxWaitersPerLock</c>, with long waits and caller-chosen owners, is refused with
/// <see cref="LockWaitersExceededException"/>; Redis never holds more live waiters than the caps; another tenant's
/// locks stay correct and fast meanwhile; waiters that crash stop counting when their lease ends; and one more wait
/// of an owner that waits for many locks does not rewrite its other waits in the wait-for graph.
/// </summary>
public sealed class LockWaiterLimitsTests(SharedRedisFixture redis)
{
    private static readonly TimeSpan LongWait = TimeSpan.FromMinutes(10);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    // Both tenants share one process, as they do in the API. Before the bounds, 1,500 waits of one tenant (half of
    // them by one owner, whose wait map the graph script decoded and re-encoded as JSON on every re-check of every
    // one of its waits) saturated Redis: commands timed out and the process's circuit opened, for the other tenant
    // too. On its own redis-server, so that load cannot reach the other tests.
    [Fact]
    public async Task TryAcquireLeaseAsync_HostileTenantWaitsBeyondTheCap_RefusedAndOtherTenantStaysCorrectAndFast()
    {
        const int TenantCap = 200;
        const int Locks = 30;
        const int Attackers = 1500;
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await LockHosts.StartAsync(
            server.ConnectionString,
            count: 1,
            [
                new("Coordination:Locks:MaxWaitersPerTenant", TenantCap.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new("Coordination:Locks:MaxWaitersPerLock", "60"),
                new("Coordination:Locks:RecheckInterval", "00:00:00.200"),
            ]);
        var attacker = hosts[0].Factory.ForTenant("a").Locks;
        var victim = hosts[0].Factory.ForTenant("b").Locks;
        for (var i = 0; i < Locks; i++)
        {
            Assert.NotNull(await attacker.TryAcquireLeaseAsync($"held-{i}", new LockOptions { TimeToLive = TimeSpan.FromMinutes(5) }, Token));
        }

        using var stopAttack = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var refused = new ConcurrentQueue<LockWaitersExceededException>();
        var unexpected = new ConcurrentQueue<Exception>();
        async Task HostileWaitAsync(int i)
        {
            try
            {
                await attacker.TryAcquireLeaseAsync(
                    $"held-{i % Locks}",
                    new LockOptions { WaitTimeout = LongWait, TimeToLive = TimeSpan.FromMinutes(1), Owner = i % 2 == 0 ? "x" : $"owner-{i}" },
                    stopAttack.Token);
            }
            catch (LockWaitersExceededException ex)
            {
                refused.Enqueue(ex);
            }
            catch (OperationCanceledException) when (stopAttack.IsCancellationRequested)
            {
            }
#pragma warning disable CA1031 // Collected and asserted below.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                unexpected.Enqueue(ex);
            }
        }

        // The hostile client opens five long waits every 10 ms; the other tenant's calls run alongside from the start.
        var attack = new List<Task>(Attackers);
        var opening = Task.Run(
            async () =>
            {
                for (var i = 0; i < Attackers; i++)
                {
                    var index = i;
                    attack.Add(Task.Run(() => HostileWaitAsync(index), Token));
                    if (i % 5 == 4)
                    {
                        await Task.Delay(10, Token);
                    }
                }
            },
            Token);
        try
        {
            var latencies = new List<double>();
            var victimFailures = new List<string>();
            var measuring = Stopwatch.StartNew();
            for (var i = 0; i < 200 && measuring.Elapsed < TimeSpan.FromSeconds(30); i++)
            {
                var started = Stopwatch.GetTimestamp();
                try
                {
                    var lease = await victim.TryAcquireLeaseAsync($"b-{i % 4}", new LockOptions { TimeToLive = TimeSpan.FromSeconds(10) }, Token);
                    if (lease is null)
                    {
                        victimFailures.Add("a free lock was not acquired");
                        continue;
                    }

                    await victim.ReleaseAsync(lease.Name, lease.Token, Token);
                    latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                catch (CoordinationException ex)
                {
                    victimFailures.Add(ex.Message);
                }

                await Task.Delay(20, Token);
            }

            await opening;
            var settling = Stopwatch.StartNew();
            while (refused.Count + unexpected.Count < Attackers - TenantCap && settling.Elapsed < TimeSpan.FromSeconds(10))
            {
                await Task.Delay(100, Token);
            }

            var liveWaiters = await CountLiveWaitersAsync(server, hosts[0].KeyPrefix, "a", Enumerable.Range(0, Locks).Select(i => $"held-{i}"));
            latencies.Sort();
            var p99 = Percentile(latencies, 0.99);
            Output.WriteLine(
                $"[measure] {Attackers} hostile waits (cap {TenantCap}): {refused.Count} refused, {liveWaiters.Places} places and {liveWaiters.LockWaiters} lock waiters live in Redis; " +
                $"other tenant: {latencies.Count} acquire+release, p50 {Percentile(latencies, 0.5):F1} ms, p90 {Percentile(latencies, 0.9):F1} ms, p99 {p99:F1} ms, max {Percentile(latencies, 1):F1} ms");

            Assert.True(victimFailures.Count == 0, $"The other tenant failed {victimFailures.Count} times, first: {victimFailures.FirstOrDefault()}");
            Assert.True(unexpected.IsEmpty, $"{unexpected.Count} hostile waits failed otherwise, first: {unexpected.FirstOrDefault()?.Message}");
            Assert.Equal(200, latencies.Count);
            Assert.True(p99 < 500, $"The other tenant's acquire+release p99 was {p99:F1} ms.");
            Assert.Equal(Attackers - TenantCap, refused.Count);
            Assert.All(refused, r => Assert.Equal(LockWaiterLimit.Tenant, r.Limit));
            Assert.All(refused, r => Assert.Equal(TenantCap, r.MaxWaiters));
            Assert.InRange(liveWaiters.Places, 1, TenantCap);
            Assert.InRange(liveWaiters.LockWaiters, 1, TenantCap);
        }
        finally
        {
            await stopAttack.CancelAsync();
            await opening.ContinueWith(_ => { }, TaskScheduler.Default);
            await Task.WhenAll(attack).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        }
    }

    [Fact]
    public async Task TryAcquireLeaseAsync_MoreWaitersThanTheLockCap_RefusedWithLockLimitOthersStillGetTheLock()
    {
        await using var hosts = await LockHosts.StartAsync(redis.ConnectionString, count: 2, [new("Coordination:Locks:MaxWaitersPerLock", "5")]);
        var locks = hosts.Locks(0);
        var held = await locks.TryAcquireLeaseAsync("contended", new LockOptions { TimeToLive = TimeSpan.FromMinutes(1) }, Token);
        Assert.NotNull(held);
        var waits = Enumerable.Range(0, 12).Select(i => Task.Run(
            () => hosts.Locks(i % 2).TryAcquireLeaseAsync("contended", new LockOptions { WaitTimeout = TimeSpan.FromSeconds(20), Owner = $"w{i}" }, Token).AsTask(),
            Token)).ToArray();

        await ProcessUtil.WaitUntilAsync(() => Task.FromResult(waits.Count(w => w.IsFaulted) == 7), TimeSpan.FromSeconds(10), "seven refusals", Token);
        var refusals = waits.Where(w => w.IsFaulted).Select(w => Assert.IsType<LockWaitersExceededException>(w.Exception!.InnerException)).ToArray();
        Assert.All(refusals, r => Assert.Equal((LockWaiterLimit.Lock, 5, "contended"), (r.Limit, r.MaxWaiters, r.Name)));
        var admin = await redis.GetAdminAsync();
        Assert.Equal(5, await admin.GetDatabase().SortedSetLengthAsync(LockKey(hosts[0].KeyPrefix, "default", "contended") + ":qt"));

        // The five admitted waiters are real waiters: each release hands the lock to the next.
        await locks.ReleaseAsync("contended", held.Token, Token);
        var admitted = waits.Where(w => !w.IsFaulted).ToList();
        for (var i = 0; i < 5; i++)
        {
            var next = await Task.WhenAny(admitted).WaitAsync(TimeSpan.FromSeconds(10), Token);
            var lease = await next;
            Assert.NotNull(lease);
            await locks.ReleaseAsync("contended", lease.Token, Token);
            admitted.Remove(next);
        }
    }

    // A crashed waiter never gives its place back; its lease (4 re-checks + 1 attempt timeout: 400 ms here) ends it.
    [Fact]
    public async Task TryAcquireLeaseAsync_WaitersCrashed_TheirPlacesFreeWhenTheirLeaseEnds()
    {
        KeyValuePair<string, string?>[] settings =
        [
            new("Coordination:Locks:MaxWaitersPerTenant", "3"),
            new("Coordination:Locks:MaxWaitersPerLock", "3"),
            new("Coordination:Locks:RecheckInterval", "00:00:00.050"),
            new("Coordination:Resilience:AttemptTimeout", "00:00:00.200"),
        ];
        await using var hosts = await LockHosts.StartAsync(redis.ConnectionString, count: 1, settings);
        await using var crashed = await CoordinationTestHost.StartAsync(redis.ConnectionString, hosts[0].KeyPrefix, settings);
        var survivor = hosts.Locks(0);
        var crashedLocks = crashed.Factory.ForTenant("default").Locks;
        Assert.NotNull(await survivor.TryAcquireLeaseAsync("busy", new LockOptions { TimeToLive = TimeSpan.FromMinutes(1) }, Token));
        Assert.NotNull(await survivor.TryAcquireLeaseAsync("other", new LockOptions { TimeToLive = TimeSpan.FromMinutes(1) }, Token));
        var doomed = Enumerable.Range(0, 3)
            .Select(i => crashedLocks.TryAcquireLeaseAsync("busy", new LockOptions { WaitTimeout = LongWait, Owner = $"doomed-{i}" }, Token).AsTask())
            .ToArray();
        var places = hosts[0].KeyPrefix + ":default:lockgraph:{" + hosts[0].KeyPrefix + ":default}:w";
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        await ProcessUtil.WaitUntilAsync(async () => await admin.SortedSetLengthAsync(places) == 3, TimeSpan.FromSeconds(5), "three waiters", Token);

        // The crash: its connections go, nothing it recorded is cleaned up.
        await crashed.Executor.Pool.DisposeAsync();
        var crashedAt = Stopwatch.StartNew();
        var byTenant = await Assert.ThrowsAsync<LockWaitersExceededException>(
            () => survivor.TryAcquireLeaseAsync("other", new LockOptions { WaitTimeout = TimeSpan.FromSeconds(5) }, Token).AsTask());
        Assert.Equal(LockWaiterLimit.Tenant, byTenant.Limit);
        var byLock = await Assert.ThrowsAsync<LockWaitersExceededException>(
            () => survivor.TryAcquireLeaseAsync("busy", new LockOptions { WaitTimeout = TimeSpan.FromSeconds(5) }, Token).AsTask());
        Assert.Equal(LockWaiterLimit.Lock, byLock.Limit);

        await Task.Delay(TimeSpan.FromMilliseconds(700), Token);

        // Both places are free again: these waits are admitted and simply run out.
        Assert.Null(await survivor.TryAcquireLeaseAsync("other", new LockOptions { WaitTimeout = TimeSpan.FromMilliseconds(300) }, Token));
        Assert.Null(await survivor.TryAcquireLeaseAsync("busy", new LockOptions { WaitTimeout = TimeSpan.FromMilliseconds(300) }, Token));
        Output.WriteLine($"[measure] places of crashed waiters free again within {crashedAt.Elapsed.TotalMilliseconds:F0} ms of the crash (lease 400 ms)");
        await Task.WhenAll(doomed.Select(d => d.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    // Before, the graph kept an owner's waits as one JSON map in one hash field, decoded and re-encoded whole by every
    // record of any of them: n waits of one owner cost O(n) each, O(n^2) per re-check interval.
    [Fact]
    public async Task TryAcquireLeaseAsync_OwnerWithThousandWaits_OneMoreWaitIsOneFieldTheOthersUntouched()
    {
        const int Waits = 1000;
        await using var hosts = await LockHosts.StartAsync(redis.ConnectionString, count: 1, [new("Coordination:Locks:MaxWaitersPerTenant", "1001")]);
        var locks = hosts.Locks(0);
        for (var i = 0; i < 21; i++)
        {
            Assert.NotNull(await locks.TryAcquireLeaseAsync($"g-{i}", new LockOptions { TimeToLive = TimeSpan.FromMinutes(1) }, Token));
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var waits = Enumerable.Range(0, Waits)
            .Select(i => Task.Run(() => locks.TryAcquireLeaseAsync($"g-{i % 20}", new LockOptions { WaitTimeout = LongWait, Owner = "x" }, stop.Token).AsTask(), Token))
            .ToList();
        var graph = hosts[0].KeyPrefix + ":default:lockgraph:{" + hosts[0].KeyPrefix + ":default}";
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        try
        {
            await ProcessUtil.WaitUntilAsync(async () => await WaitsOfAsync(admin, graph, "x") == Waits, TimeSpan.FromSeconds(30), "a thousand waits of x", Token);
            var before = await admin.HashGetAllAsync(graph);

            waits.Add(Task.Run(() => locks.TryAcquireLeaseAsync("g-20", new LockOptions { WaitTimeout = LongWait, Owner = "x" }, stop.Token).AsTask(), Token));
            await ProcessUtil.WaitUntilAsync(async () => await WaitsOfAsync(admin, graph, "x") == Waits + 1, TimeSpan.FromSeconds(10), "the extra wait", Token);
            var after = await admin.HashGetAllAsync(graph);

            // Each wait is a field of its own, of a size that does not grow with the owner's other waits.
            var longest = after.Max(e => e.Value.Length());
            Output.WriteLine($"[measure] owner with {Waits + 1} waits: graph hash has {after.Length} fields, the longest {longest} bytes");
            Assert.True(longest < 512, $"A graph field of {longest} bytes: an owner's waits are stored together.");
            var added = after.Select(e => (string)e.Name!).Except(before.Select(e => (string)e.Name!)).Where(n => n.StartsWith("e|", StringComparison.Ordinal)).ToArray();
            Assert.Single(added);
            Assert.EndsWith("g-20", after.Single(e => e.Name == added[0]).Value.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(waits.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        }
    }

    // Waiters are woken by release messages; their own re-checks are a safety net. Before, each one ran the acquire
    // and the graph script every RecheckInterval (500 ms): about 4,000 scripts a second for 1,000 idle waiters. Now a
    // waiter that sleeps through doubles its sleep up to two intervals: about half of that.
    [Fact]
    public async Task TryAcquireLeaseAsync_ThousandIdleWaiters_CostRedisAtMostTwoScriptsPerWaiterPerSecond()
    {
        const int Waiters = 1000;
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await LockHosts.StartAsync(server.ConnectionString, count: 1);
        var locks = hosts.Locks(0);
        for (var i = 0; i < 10; i++)
        {
            Assert.NotNull(await locks.TryAcquireLeaseAsync($"idle-{i}", new LockOptions { TimeToLive = TimeSpan.FromMinutes(5) }, Token));
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        var waits = Enumerable.Range(0, Waiters)
            .Select(i => Task.Run(() => locks.TryAcquireLeaseAsync($"idle-{i % 10}", new LockOptions { WaitTimeout = LongWait, Owner = $"o{i}" }, stop.Token).AsTask(), Token))
            .ToArray();
        var admin = await server.GetAdminAsync();
        var redisServer = admin.GetServer(admin.GetEndPoints()[0]);
        try
        {
            await ProcessUtil.WaitUntilAsync(
                async () => (await CountLiveWaitersAsync(server, hosts[0].KeyPrefix, "default", Enumerable.Range(0, 10).Select(i => $"idle-{i}"))).LockWaiters == Waiters,
                TimeSpan.FromSeconds(30),
                "a thousand waiters",
                Token);
            await Task.Delay(TimeSpan.FromSeconds(3), Token);
            await redisServer.ConfigResetStatisticsAsync();
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(5), Token);
            var stats = (await redisServer.InfoAsync("commandstats")).SelectMany(g => g).ToArray();
            var elapsed = window.Elapsed.TotalSeconds;

            var scripts = stats.Where(s => s.Key is "cmdstat_evalsha" or "cmdstat_eval").Sum(s => CallsOf(s.Value));
            var commands = stats.Where(s => s.Key.StartsWith("cmdstat_", StringComparison.Ordinal)).Sum(s => CallsOf(s.Value));
            Output.WriteLine($"[measure] {Waiters} idle waiters: {scripts / elapsed:F0} scripts/s, {commands / elapsed:F0} commands/s; {string.Join("; ", stats.Where(s => s.Key is "cmdstat_evalsha").Select(s => s.Value))}");
            Assert.True(scripts / elapsed < 2.4 * Waiters, $"{scripts / elapsed:F0} scripts a second for {Waiters} idle waiters.");
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(waits.Select(w => w.ContinueWith(_ => { }, TaskScheduler.Default))).WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        }
    }

    // "calls=123,usec=456,..." of INFO commandstats.
    private static long CallsOf(string stat) =>
        long.Parse(stat.Split(',')[0].Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);

    private static double Percentile(List<double> sorted, double share) =>
        sorted.Count == 0 ? double.PositiveInfinity : sorted[(int)Math.Ceiling(sorted.Count * share) - 1];

    private static async Task<long> WaitsOfAsync(IDatabase admin, string graph, string owner) =>
        await admin.SortedSetLengthByValueAsync(graph + ":o", owner + "\u0001", owner + "\u0002", Exclude.Stop);

    private static string LockKey(string prefix, string tenant, string name) => $"{prefix}:{tenant}:lock:{{{name}}}";

    private static async Task<(long Places, long LockWaiters)> CountLiveWaitersAsync(RedisServer server, string prefix, string tenant, IEnumerable<string> names)
    {
        var admin = (await server.GetAdminAsync()).GetDatabase();
        var time = (RedisResult[])(await admin.ExecuteAsync("TIME"))!;
        var now = ((long)time[0] * 1000) + ((long)time[1] / 1000);
        var places = await admin.SortedSetLengthAsync($"{prefix}:{tenant}:lockgraph:{{{prefix}:{tenant}}}:w", now, double.PositiveInfinity, Exclude.Start);
        long lockWaiters = 0;
        foreach (var name in names)
        {
            lockWaiters += await admin.SortedSetLengthAsync(LockKey(prefix, tenant, name) + ":qt", now, double.PositiveInfinity, Exclude.Start);
        }

        return (places, lockWaiters);
    }
}
