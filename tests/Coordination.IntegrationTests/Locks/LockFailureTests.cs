using System.Diagnostics;
using System.Net;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// Locks under failure, each test on its own redis-server: Redis down (fail closed), killed, paused (SIGSTOP) and
/// restarted while a lock is held; a holder that crashes; replicas that do not acknowledge.
/// </summary>
[Collection(nameof(FaultTimingTests))]
public sealed class LockFailureTests
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task Acquire_RedisDown_FailsClosedWithUnavailable()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await LockHosts.StartAsync(server.ConnectionString, count: 1, FailureSettings.Fast);
        var locks = hosts.Locks(0);
        var held = await locks.AcquireAsync("held-before", cancellationToken: Token);
        var heldSet = await locks.AcquireAllAsync(["set-1", "set-2"], cancellationToken: Token);
        await server.KillAsync();
        var started = Stopwatch.StartNew();

        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => locks.AcquireAsync("down", cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => locks.TryAcquireAsync("down", cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => locks.TryAcquireLeaseAsync("down", cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => locks.GetInfoAsync("down", Token).AsTask());
        Assert.False(await Task.Run(() => hosts[0].Coordinator.LockAsync("down", cancellationToken: Token).AsTask(), Token).ContinueWith(t => t.IsCompletedSuccessfully, Token));

        Output.WriteLine($"[measure] five lock calls with Redis down failed closed in {started.Elapsed.TotalMilliseconds:F0} ms");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(5));

        // Releasing cannot reach Redis: ReleaseAsync says so, DisposeAsync logs it (the locks expire with their TTL).
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => heldSet.ReleaseAsync(Token).AsTask());
        await heldSet.DisposeAsync();
        await held.DisposeAsync();
        Assert.False(held.HandleLost.IsCancellationRequested);
    }

    // Regression: a fair waiter cancelled while its first attempt was in flight was queued by that attempt after
    // the client gave up on it, and every later fair caller waited behind it until its waiter lease ran out (about
    // 2.5 s) while the lock was free. Each step runs in its own async flow (one flow is one re-entrant owner).
    [Fact]
    public async Task AcquireAsync_FairWaitersCancelledInFlight_LeaveNoQueueEntryBehind()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await LockHosts.StartAsync(server.ConnectionString, count: 1);
        var locks = hosts.Locks(0);
        var fair = new LockOptions { Fair = true, WaitTimeout = TimeSpan.FromSeconds(10) };
        var holder = await Task.Run(() => locks.AcquireAsync("fair-cancel", fair, Token).AsTask(), Token);
        for (var i = 0; i < 5; i++)
        {
            await Task.Run(
                async () =>
                {
                    using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
                    var waiting = locks.AcquireAsync("fair-cancel", fair, cancel.Token).AsTask();
                    await cancel.CancelAsync();
                    await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
                },
                Token);
        }

        await holder.ReleaseAsync(Token);
        var elapsed = await Task.Run(
            async () =>
            {
                var started = Stopwatch.StartNew();
                await using var next = await locks.AcquireAsync("fair-cancel", fair, Token);
                return started.Elapsed;
            },
            Token);

        Output.WriteLine($"[measure] free lock taken fairly {elapsed.TotalMilliseconds:F0} ms after 5 cancelled in-flight fair waiters");
        Assert.True(elapsed < TimeSpan.FromMilliseconds(1000), $"A free lock took {elapsed.TotalMilliseconds:F0} ms to take fairly after cancelled waiters.");
    }

    [Fact]
    public async Task AutoRenew_RedisKilled_ReportedLostWhenTtlPassesNotBefore()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await LockHosts.StartAsync(server.ConnectionString, count: 1, FailureSettings.Fast);
        var lostEvent = new TaskCompletionSource<LockLostEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        hosts[0].Events.LockLost += (_, e) => lostEvent.TrySetResult(e);
        var handle = await hosts.Locks(0).AcquireAsync("killed", new LockOptions { TimeToLive = Ttl, AutoRenew = true }, Token);
        var lostAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        handle.HandleLost.Register(() => lostAt.TrySetResult(Stopwatch.GetTimestamp()));
        await Task.Delay(Ttl * 1.5, Token);
        Assert.False(handle.HandleLost.IsCancellationRequested);

        var killedAt = Stopwatch.GetTimestamp();
        await server.KillAsync();

        var lostAfter = Stopwatch.GetElapsedTime(killedAt, await lostAt.Task.WaitAsync(TimeSpan.FromSeconds(5), Token));
        var args = await lostEvent.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Output.WriteLine($"[measure] renewed lock (TTL {Ttl.TotalMilliseconds:F0} ms) reported lost {lostAfter.TotalMilliseconds:F0} ms after Redis was killed");

        // The last renewal was sent at most a third of the TTL before the kill; the hold is valid until that renewal's
        // send time + TTL - drift margin, and is reported lost then, not at the first failed renewal.
        Assert.InRange(lostAfter, Ttl * 2 / 3 - TimeSpan.FromMilliseconds(50), Ttl + TimeSpan.FromMilliseconds(400));
        Assert.Equal((LockLostReason.ValidityExpired, "killed", handle.FencingToken, "default"), (args.Reason, args.Name, args.FencingToken, args.Tenant));
        await handle.DisposeAsync();
    }

    [Fact]
    public async Task AutoRenew_RedisPaused_HandleLostAndNoSecondHolderBeforeTtlPassed()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await LockHosts.StartAsync(server.ConnectionString, settings: FailureSettings.Fast);
        var holder = await hosts.Locks(0).AcquireAsync("paused", new LockOptions { TimeToLive = Ttl, AutoRenew = true }, Token);
        long lostAt = 0;
        holder.HandleLost.Register(() => Interlocked.Exchange(ref lostAt, Stopwatch.GetTimestamp()));
        await Task.Delay(Ttl / 2, Token);

        var pausedAt = Stopwatch.GetTimestamp();
        await server.PauseAsync();
        var contender = LockTestFlows.UnrelatedAsync(async () =>
        {
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                try
                {
                    if (await hosts.Locks(1).TryAcquireAsync("paused", new LockOptions { TimeToLive = TimeSpan.FromSeconds(5) }, Token) is { } taken)
                    {
                        return (Handle: taken, At: Stopwatch.GetTimestamp());
                    }
                }
                catch (CoordinationUnavailableException)
                {
                    // Redis does not answer (or the circuit is open): keep trying, as an impatient contender would.
                }

                await Task.Delay(20, Token);
            }

            throw new TimeoutException("The contender never got the lock.");
        });
        await Task.Delay(TimeSpan.FromMilliseconds(2500), Token);
        await server.ResumeAsync();
        var (second, secondAt) = await contender.WaitAsync(TimeSpan.FromSeconds(25), Token);
        await using var secondHandle = second;

        var lost = Interlocked.Read(ref lostAt);
        Assert.True(lost != 0, "The holder must have been told it lost the lock.");
        var lostAfter = Stopwatch.GetElapsedTime(pausedAt, lost);
        var secondAfter = Stopwatch.GetElapsedTime(pausedAt, secondAt);
        Output.WriteLine($"[measure] Redis paused: holder's HandleLost fired {lostAfter.TotalMilliseconds:F0} ms after the pause, " +
            $"the next holder got the lock {secondAfter.TotalMilliseconds:F0} ms after it (resumed at 2500 ms; TTL {Ttl.TotalMilliseconds:F0} ms)");
        Assert.True(lost < secondAt, "The holder must know it lost the lock before anyone else holds it.");
        Assert.InRange(lostAfter, Ttl / 2, Ttl + TimeSpan.FromMilliseconds(400));

        // In Redis' own time, the second hold began after the first one's last known expiry.
        var secondStartedAt = second.ExpiresAt - TimeSpan.FromSeconds(5);
        Assert.True(secondStartedAt >= holder.ExpiresAt, $"Second hold from {secondStartedAt:O}, first valid until {holder.ExpiresAt:O}.");
        Assert.True(second.FencingToken > holder.FencingToken);
        await holder.DisposeAsync();
    }

    [Fact]
    public async Task Holder_Crashes_LockFreeWithinItsTtl()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await LockHosts.StartAsync(server.ConnectionString);
        var holder = await hosts.Locks(0).AcquireAsync("crash", new LockOptions { TimeToLive = Ttl, AutoRenew = true }, Token);
        var waiter = LockTestFlows.UnrelatedAsync(() => hosts.Locks(1).AcquireAsync("crash", new LockOptions { WaitTimeout = TimeSpan.FromSeconds(10) }, Token).AsTask());
        await Task.Delay(Ttl, Token);
        Assert.False(waiter.IsCompleted, "Renewal keeps the lock while the holder lives.");

        // The holder's process dies: its connections close, nothing releases or renews the lock.
        var crashedAt = Stopwatch.GetTimestamp();
        await hosts[0].Executor.Pool.DisposeAsync();
        await using var next = await waiter.WaitAsync(TimeSpan.FromSeconds(5), Token);

        var freeAfter = Stopwatch.GetElapsedTime(crashedAt);
        Output.WriteLine($"[measure] lock of a crashed holder (TTL {Ttl.TotalMilliseconds:F0} ms, renewed) taken by a waiter {freeAfter.TotalMilliseconds:F0} ms after the crash");
        Assert.InRange(freeAfter, TimeSpan.Zero, Ttl + TimeSpan.FromMilliseconds(300));
        Assert.True(next.FencingToken > holder.FencingToken);
    }

    [Fact]
    public async Task RedisRestarted_HeldLockReportedLostAsPrimaryChanged()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var hosts = await LockHosts.StartAsync(server.ConnectionString, count: 1);
        var lostEvent = new TaskCompletionSource<LockLostEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        hosts[0].Events.LockLost += (_, e) => lostEvent.TrySetResult(e);
        var handle = await hosts.Locks(0).AcquireAsync("restart", new LockOptions { TimeToLive = TimeSpan.FromMinutes(5) }, Token);

        var restartedAt = Stopwatch.StartNew();
        await server.KillAsync();
        await server.RestartAsync(Token);

        // No renewal runs: only noticing the new server (its run id) can tell the holder.
        var args = await lostEvent.Task.WaitAsync(TimeSpan.FromSeconds(15), Token);
        Output.WriteLine($"[measure] restart of Redis (a new primary) reported to the holder {restartedAt.Elapsed.TotalMilliseconds:F0} ms after the kill");
        Assert.Equal(LockLostReason.PrimaryChanged, args.Reason);
        Assert.True(handle.HandleLost.IsCancellationRequested);
        await handle.DisposeAsync();

        // Locks taken on the new primary are fine.
        await using var again = await hosts.Locks(0).AcquireAsync("restart", cancellationToken: Token);
        await Task.Delay(200, Token);
        Assert.False(again.HandleLost.IsCancellationRequested);
    }

    [Fact]
    public async Task ReplicasToAcknowledge_CountsOnlyWhenReplicasHaveIt()
    {
        await using var primary = await RedisServer.StartAsync(Token);
        await using var replica = await RedisServer.StartAsync(Token);
        var primaryAdmin = await primary.GetAdminAsync();

        // Diskless full sync otherwise waits 5 s for more replicas to join.
        await primaryAdmin.GetServer(IPAddress.Loopback, primary.Port).ConfigSetAsync("repl-diskless-sync-delay", "0");
        var replicaAdmin = await replica.GetAdminAsync();
        await replicaAdmin.GetServer(IPAddress.Loopback, replica.Port).ReplicaOfAsync(new IPEndPoint(IPAddress.Loopback, primary.Port));
        await ProcessUtil.WaitUntilAsync(
            async () => ((string?)await primaryAdmin.GetDatabase().ExecuteAsync("INFO", "replication"))!.Contains("state=online", StringComparison.Ordinal),
            TimeSpan.FromSeconds(10),
            "the replica to sync",
            Token);
        // A loaded test machine can take more than the default 250 ms for an acknowledgement (WAIT runs within the
        // attempt, so the attempt timeout is raised with it).
        await using var hosts = await LockHosts.StartAsync(
            primary.ConnectionString,
            count: 1,
            [new("Coordination:Locks:ReplicaAcknowledgeTimeout", "00:00:01.500"), new("Coordination:Resilience:AttemptTimeout", "00:00:03")]);
        var locks = hosts.Locks(0);

        await using (var acknowledged = await locks.AcquireAsync("replicated", new LockOptions { ReplicasToAcknowledge = 1 }, Token))
        {
            var onReplica = await LockLayout.WriterTokenAsync((await replica.GetAdminAsync()).GetDatabase(), hosts[0].RedisKey("replicated", "lock"));
            Assert.Equal(acknowledged.Token, onReplica);
        }

        var started = Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => locks.AcquireAsync("replicated", new LockOptions { ReplicasToAcknowledge = 2 }, Token).AsTask());
        Output.WriteLine($"[measure] acquisition asking for 2 replicas (1 exists) refused after {started.Elapsed.TotalMilliseconds:F0} ms (acknowledge timeout 1500 ms)");
        Assert.Equal(UnavailableReason.ReplicasNotAcknowledged, ex.Reason);
        Assert.Null(await locks.GetInfoAsync("replicated", Token));
    }
}
