using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// <see cref="IDistributedLockManager"/> against a real redis-server, between two hosts with their own connections:
/// time to live, extension, release by token, renewal, inspection, re-entrancy, hierarchy, read/write locks,
/// semaphores, multi-locks, leases and fairness.
/// </summary>
public sealed class DistributedLockManagerTests(SharedRedisFixture redis) : IAsyncLifetime
{
    private LockHosts _hosts = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private IDistributedLockManager First => _hosts.Locks(0);

    private IDistributedLockManager Second => _hosts.Locks(1);

    public async ValueTask InitializeAsync() => _hosts = await LockHosts.StartAsync(redis.ConnectionString);

    public async ValueTask DisposeAsync() => await _hosts.DisposeAsync();

    [Fact]
    public async Task TryAcquireAsync_TimeToLiveElapsed_FreesLockAndReportsHandleLost()
    {
        var handle = await First.TryAcquireAsync("ttl", new LockOptions { TimeToLive = TimeSpan.FromMilliseconds(300) }, Token);
        Assert.NotNull(handle);
        Assert.Null(await Second.TryAcquireAsync("ttl", cancellationToken: Token));
        var lost = Stopwatch.StartNew();

        await Task.Delay(TimeSpan.FromMilliseconds(350), Token);

        Assert.True(handle.HandleLost.IsCancellationRequested, "The handle must report the lock lost once its time to live has passed.");
        await using var next = await Second.TryAcquireAsync("ttl", cancellationToken: Token);
        Assert.NotNull(next);
        Assert.True(next.FencingToken > handle.FencingToken);

        // Extending after expiry fails, by handle and by token; releasing the expired handle changes nothing.
        await Assert.ThrowsAsync<LockNotHeldException>(() => handle.ExtendAsync(cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<LockNotHeldException>(() => First.ExtendAsync("ttl", handle.Token, TimeSpan.FromSeconds(5), Token).AsTask());
        await handle.DisposeAsync();
        var info = await First.GetInfoAsync("ttl", Token);
        Assert.NotNull(info);
        Assert.Equal(next.Owner, info.Owner);
        Assert.Equal(next.FencingToken, info.FencingToken);
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] expired lock retaken {lost.Elapsed.TotalMilliseconds:F0} ms after its 300 ms TTL started");
    }

    [Fact]
    public async Task TryAcquireAsync_WithWait_NullWhenHeldThroughTheWait_HandleWhenReleasedDuringIt()
    {
        await using var holder = await First.AcquireAsync("wait-overload", new LockOptions { TimeToLive = TimeSpan.FromSeconds(30) }, Token);
        var started = Stopwatch.GetTimestamp();

        var refused = await Second.TryAcquireAsync("wait-overload", TimeSpan.FromMilliseconds(300), Token);

        var waited = Stopwatch.GetElapsedTime(started);
        Assert.Null(refused);
        Assert.True(waited >= TimeSpan.FromMilliseconds(250), $"Gave up after {waited.TotalMilliseconds:F0} ms of a 300 ms wait.");

        var waiting = Second.TryAcquireAsync("wait-overload", TimeSpan.FromSeconds(10), Token).AsTask();
        await Task.Delay(TimeSpan.FromMilliseconds(100), Token);
        Assert.False(waiting.IsCompleted);
        await holder.ReleaseAsync(Token);
        await using var next = await waiting.WaitAsync(TimeSpan.FromSeconds(10), Token);

        Assert.NotNull(next);
        Assert.True(next.FencingToken > holder.FencingToken);
    }

    [Fact]
    public async Task ReleaseAsync_WrongToken_ThrowsLockNotHeldAndLeavesHolderIntact()
    {
        await using var holder = await First.AcquireAsync("guarded", new LockOptions { TimeToLive = TimeSpan.FromSeconds(30) }, Token);
        var lease = await Second.TryAcquireLeaseAsync("other", cancellationToken: Token);
        Assert.NotNull(lease);

        // Another hold's real token, a well-formed stranger, and garbage: none of them holds "guarded".
        await Assert.ThrowsAsync<LockNotHeldException>(() => Second.ReleaseAsync("guarded", lease.Token, Token).AsTask());
        await Assert.ThrowsAsync<LockNotHeldException>(() => Second.ReleaseAsync("guarded", "AAAAAAAAAAAAAAAAAAAAAA", Token).AsTask());
        var ex = await Assert.ThrowsAsync<LockNotHeldException>(() => Second.ReleaseAsync("guarded", "#w", Token).AsTask());
        Assert.Equal("guarded", ex.Name);
        await Assert.ThrowsAsync<LockNotHeldException>(() => Second.ExtendAsync("guarded", lease.Token, TimeSpan.FromSeconds(1), Token).AsTask());

        var info = await Second.GetInfoAsync("guarded", Token);
        Assert.NotNull(info);
        Assert.Equal(holder.Owner, info.Owner);
        Assert.Equal(holder.FencingToken, info.FencingToken);
        Assert.False(holder.HandleLost.IsCancellationRequested);
        Assert.Null(await Second.TryAcquireAsync("guarded", cancellationToken: Token));
        Assert.True(await holder.ExtendAsync(TimeSpan.FromSeconds(40), Token) > DateTimeOffset.UtcNow.AddSeconds(35));

        // Extending by token through the manager that holds the handle updates the handle too.
        var extended = await First.ExtendAsync("guarded", holder.Token, TimeSpan.FromSeconds(50), Token);
        Assert.Equal(extended, holder.ExpiresAt);
    }

    [Fact]
    public async Task Handle_HoldRemovedBehindItsBack_ReleaseExtendAndReentryReportTheLoss()
    {
        // Released by token from another process: the handles here learn it at their next call to Redis.
        var outer = await First.AcquireAsync("behind", cancellationToken: Token);
        var inner = await First.AcquireAsync("behind", cancellationToken: Token);
        await Second.ReleaseAsync("behind", outer.Token, Token);
        await Second.ReleaseAsync("behind", outer.Token, Token);

        await inner.ReleaseAsync(Token);

        Assert.True(outer.HandleLost.IsCancellationRequested);
        await Assert.ThrowsAsync<LockNotHeldException>(() => outer.ExtendAsync(cancellationToken: Token).AsTask());
        await outer.DisposeAsync();

        var extended = await First.AcquireAsync("behind-extend", cancellationToken: Token);
        await Second.ReleaseAsync("behind-extend", extended.Token, Token);
        await Assert.ThrowsAsync<LockNotHeldException>(() => extended.ExtendAsync(TimeSpan.FromSeconds(5), Token).AsTask());
        Assert.True(extended.HandleLost.IsCancellationRequested);

        // Re-entering a hold that is gone takes the lock anew (the old handle is lost).
        var gone = await First.AcquireAsync("behind-reentry", cancellationToken: Token);
        await Second.ReleaseAsync("behind-reentry", gone.Token, Token);
        await using var anew = await First.AcquireAsync("behind-reentry", cancellationToken: Token);
        Assert.NotEqual(gone.Token, anew.Token);
        Assert.True(anew.FencingToken > gone.FencingToken);
        Assert.True(gone.HandleLost.IsCancellationRequested);
        Assert.False(anew.HandleLost.IsCancellationRequested);
    }

    [Fact]
    public async Task StopAsync_HostHoldingHandles_ReleasesThemForOtherHosts()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString, _hosts[0].KeyPrefix, hostName: "stopping");
        var locks = host.Services.GetRequiredService<IDistributedLockManager>();
        await locks.AcquireAsync("stop-exclusive", new LockOptions { AutoRenew = true, TimeToLive = TimeSpan.FromSeconds(30) }, Token);
        await locks.AcquireReadAsync("stop-read", cancellationToken: Token);
        await locks.AcquireSemaphoreAsync("stop-permit", 1, cancellationToken: Token);
        await locks.AcquireAllAsync(["stop-a", "stop-b"], cancellationToken: Token);
        Assert.Null(await First.TryAcquireSemaphoreAsync("stop-permit", 1, cancellationToken: Token));

        await host.StopAsync();

        foreach (var name in new[] { "stop-exclusive", "stop-read", "stop-a", "stop-b" })
        {
            Assert.Null(await First.GetInfoAsync(name, Token));
        }

        await using var permit = await First.TryAcquireSemaphoreAsync("stop-permit", 1, cancellationToken: Token);
        Assert.NotNull(permit);
    }

    [Fact]
    public async Task AcquireAsync_AutoRenew_KeepsLockPastSeveralTimeToLives()
    {
        var ttl = TimeSpan.FromMilliseconds(300);
        await using var handle = await First.AcquireAsync("renewed", new LockOptions { TimeToLive = ttl, AutoRenew = true }, Token);
        var firstExpiry = handle.ExpiresAt;

        for (var i = 0; i < 4; i++)
        {
            await Task.Delay(ttl, Token);
            Assert.Null(await Second.TryAcquireAsync("renewed", cancellationToken: Token));
        }

        Assert.False(handle.HandleLost.IsCancellationRequested);
        Assert.True(handle.ExpiresAt > firstExpiry + ttl * 2, $"Renewals must have moved the expiry ({firstExpiry:O} -> {handle.ExpiresAt:O}).");
        await handle.ReleaseAsync(Token);

        // Released: free at once, and renewal stopped (nothing re-creates the hold).
        await using var next = await Second.TryAcquireAsync("renewed", new LockOptions { TimeToLive = ttl }, Token);
        Assert.NotNull(next);
        await Task.Delay(ttl / 2, Token);
        Assert.Equal(next.Owner, (await Second.GetInfoAsync("renewed", Token))?.Owner);
    }

    [Fact]
    public async Task AcquireAsync_SameFlowAgain_ReentersCountedWithSameTokens()
    {
        var outer = await First.AcquireAsync("reentrant", cancellationToken: Token);
        var inner = await First.AcquireAsync("reentrant", cancellationToken: Token);
        var read = await First.AcquireReadAsync("reentrant", cancellationToken: Token);

        Assert.Equal(outer.Token, inner.Token);
        Assert.Equal(outer.FencingToken, inner.FencingToken);
        Assert.Equal(outer.Token, read.Token);
        Assert.Equal(3, Assert.Single((await First.GetInfoAsync("reentrant", Token))!.Holders).Count);

        await inner.ReleaseAsync(Token);
        await inner.ReleaseAsync(Token);
        await read.DisposeAsync();
        var info = await First.GetInfoAsync("reentrant", Token);
        Assert.Equal(1, Assert.Single(info!.Holders).Count);
        Assert.Null(await Second.TryAcquireAsync("reentrant", cancellationToken: Token));

        await outer.DisposeAsync();
        Assert.Null(await First.GetInfoAsync("reentrant", Token));
        await using var other = await Second.TryAcquireAsync("reentrant", cancellationToken: Token);
        Assert.NotNull(other);
    }

    [Fact]
    public async Task AcquireAsync_OtherFlows_DoNotReenter()
    {
        // A flow started while the lock is held acts as the same owner, but does not re-enter a lock it did not
        // take: two such siblings still exclude each other on a lock they take themselves.
        await using var parent = await First.AcquireAsync("parent", cancellationToken: Token);
        var inside = 0;
        var overlaps = 0;
        var owners = new string[4];
        await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(
            async () =>
            {
                await using var child = await First.AcquireAsync("child", new LockOptions { WaitTimeout = TimeSpan.FromSeconds(10) }, Token);
                owners[i] = child.Owner;
                if (Interlocked.Increment(ref inside) != 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                await Task.Delay(20, Token);
                Interlocked.Decrement(ref inside);
            },
            Token)));

        Assert.Equal(0, overlaps);
        Assert.All(owners, owner => Assert.Equal(parent.Owner, owner));

        // A flow started while the lock is held is part of the holder's flow and re-enters it; an unrelated flow
        // is another owner and does not.
        await using var forked = await Task.Run(() => First.TryAcquireAsync("parent", cancellationToken: Token).AsTask(), Token);
        Assert.Equal(parent.Token, forked?.Token);
        Assert.Null(await LockTestFlows.UnrelatedAsync(() => First.TryAcquireAsync("parent", cancellationToken: Token).AsTask()));
    }

    [Fact]
    public async Task AcquireAsync_NamedOwnerInTwoProcesses_ReentersAcrossThem()
    {
        var options = new LockOptions { Owner = "billing-service", TimeToLive = TimeSpan.FromSeconds(30) };
        var first = await First.AcquireAsync("by-owner", options, Token);
        var second = await Second.AcquireAsync("by-owner", options, Token);

        Assert.Equal(first.Token, second.Token);
        Assert.Equal(first.FencingToken, second.FencingToken);
        Assert.Equal(2, Assert.Single((await First.GetInfoAsync("by-owner", Token))!.Holders).Count);
        Assert.Null(await Second.TryAcquireAsync("by-owner", new LockOptions { Owner = "someone-else" }, Token));

        await first.DisposeAsync();
        Assert.NotNull(await First.GetInfoAsync("by-owner", Token));
        await second.DisposeAsync();
        Assert.Null(await First.GetInfoAsync("by-owner", Token));
    }

    [Fact]
    public async Task AcquireAsync_LevelNotAboveHeldLevel_ThrowsHierarchyViolationBeforeRedis()
    {
        await using var high = await First.AcquireAsync("level-2", new LockOptions { Level = 2 }, Token);
        await using var higher = await First.AcquireAsync("level-3", new LockOptions { Level = 3 }, Token);

        var equal = await Assert.ThrowsAsync<LockHierarchyViolationException>(() => First.AcquireAsync("other-3", new LockOptions { Level = 3 }, Token).AsTask());
        var lower = await Assert.ThrowsAsync<LockHierarchyViolationException>(() => First.AcquireAsync("level-1", new LockOptions { Level = 1 }, Token).AsTask());

        Assert.Equal(("other-3", 3, "level-3", 3), (equal.Name, equal.Level, equal.HeldName, equal.HeldLevel));
        Assert.Equal(("level-1", 1, 3), (lower.Name, lower.Level, lower.HeldLevel));
        Assert.Null(await First.GetInfoAsync("level-1", Token));

        // Re-entering a held lock is no violation; a lock without a level is outside the hierarchy; and a flow that
        // holds nothing starts afresh.
        await using (await First.AcquireAsync("level-2", new LockOptions { Level = 2 }, Token))
        await using (await First.AcquireAsync("no-level", cancellationToken: Token))
        {
        }

        await using var elsewhere = await LockTestFlows.UnrelatedAsync(() => First.AcquireAsync("level-1", new LockOptions { Level = 1 }, Token).AsTask());
        await using var named = await First.AcquireAsync("named-4", new LockOptions { Level = 4, Owner = "svc" }, Token);
        await Assert.ThrowsAsync<LockHierarchyViolationException>(() => First.AcquireAsync("named-1", new LockOptions { Level = 1, Owner = "svc" }, Token).AsTask());
    }

    [Fact]
    public async Task AcquireAsync_HierarchyConfiguredToLog_TakesLockAnyway()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString, settings: [new("Coordination:Locks:HierarchyViolation", "Log")]);
        var locks = host.Services.GetRequiredService<IDistributedLockManager>();

        await using var high = await locks.AcquireAsync("high", new LockOptions { Level = 5 }, Token);
        await using var low = await locks.AcquireAsync("low", new LockOptions { Level = 1 }, Token);

        Assert.NotNull(await locks.GetInfoAsync("low", Token));
    }

    [Fact]
    public async Task ReadWriteLock_ReadersShareWritersExclude()
    {
        await using var reader1 = await First.AcquireReadAsync("rw", cancellationToken: Token);
        await using var reader2 = await Task.Run(() => Second.AcquireReadAsync("rw", cancellationToken: Token).AsTask(), Token);
        Assert.Null(await Second.TryAcquireAsync("rw", cancellationToken: Token));
        var info = await First.GetInfoAsync("rw", Token);
        Assert.Equal(LockMode.Shared, info!.Mode);
        Assert.Equal(2, info.Holders.Count);

        var writer = Task.Run(() => Second.AcquireAsync("rw", new LockOptions { WaitTimeout = TimeSpan.FromSeconds(10) }, Token).AsTask(), Token);
        await reader1.ReleaseAsync(Token);
        await Task.Delay(50, Token);
        Assert.False(writer.IsCompleted, "A writer must wait for every reader.");
        await reader2.ReleaseAsync(Token);
        await using var written = await writer.WaitAsync(TimeSpan.FromSeconds(5), Token);

        Assert.Equal(LockMode.Exclusive, (await First.GetInfoAsync("rw", Token))!.Mode);
        Assert.Null(await First.TryAcquireReadAsync("rw", cancellationToken: Token));
        Assert.True(written.FencingToken > reader2.FencingToken);

        // A flow cannot upgrade its own read lock (it would wait for itself).
        await Task.Run(
            async () =>
            {
                await using var mine = await First.AcquireReadAsync("upgrade", cancellationToken: Token);
                await Assert.ThrowsAsync<LockRecursionException>(() => First.AcquireAsync("upgrade", cancellationToken: Token).AsTask());
            },
            Token);
        await using var namedRead = await First.AcquireReadAsync("named-upgrade", new LockOptions { Owner = "reader" }, Token);
        await Assert.ThrowsAsync<LockRecursionException>(() => Second.AcquireAsync("named-upgrade", new LockOptions { Owner = "reader" }, Token).AsTask());
    }

    [Fact]
    public async Task ReadWriteLock_FairWriterQueued_LaterFairReadersWaitBehindIt()
    {
        var fair = new LockOptions { Fair = true, WaitTimeout = TimeSpan.FromSeconds(10) };
        var reader = await LockTestFlows.UnrelatedAsync(() => First.AcquireReadAsync("fair-rw", fair, Token).AsTask());
        var writer = LockTestFlows.UnrelatedAsync(() => Second.AcquireAsync("fair-rw", fair, Token).AsTask());
        await ProcessUtil.WaitUntilAsync(async () => (await First.GetInfoAsync("fair-rw", Token))!.Waiters == 1, TimeSpan.FromSeconds(5), "the writer to queue", Token);

        // A fair reader does not overtake the queued writer, though readers hold the lock; an unfair one does.
        Assert.Null(await LockTestFlows.UnrelatedAsync(() => Second.TryAcquireReadAsync("fair-rw", new LockOptions { Fair = true, WaitTimeout = TimeSpan.FromMilliseconds(100) }, Token).AsTask()));
        var unfair = await LockTestFlows.UnrelatedAsync(() => Second.TryAcquireReadAsync("fair-rw", cancellationToken: Token).AsTask());
        Assert.NotNull(unfair);
        var laterReader = LockTestFlows.UnrelatedAsync(() => First.AcquireReadAsync("fair-rw", fair, Token).AsTask());

        await reader.ReleaseAsync(Token);
        await unfair.ReleaseAsync(Token);
        await using (var written = await writer.WaitAsync(TimeSpan.FromSeconds(5), Token))
        {
            Assert.False(laterReader.IsCompleted);
        }

        await using var read = await laterReader.WaitAsync(TimeSpan.FromSeconds(5), Token);
        Assert.Equal(LockMode.Shared, (await First.GetInfoAsync("fair-rw", Token))!.Mode);
    }

    [Fact]
    public async Task Semaphore_AdmitsPermitsAndWakesWaiterOnRelease()
    {
        var permits = new List<ILockHandle>();
        for (var i = 0; i < 3; i++)
        {
            permits.Add((await (i % 2 == 0 ? First : Second).TryAcquireSemaphoreAsync("pool", 3, cancellationToken: Token))!);
        }

        Assert.All(permits, Assert.NotNull);
        Assert.Null(await Second.TryAcquireSemaphoreAsync("pool", 3, cancellationToken: Token));
        Assert.Null(await First.GetInfoAsync("pool", Token));

        var waiting = Task.Run(() => Second.AcquireSemaphoreAsync("pool", 3, new LockOptions { WaitTimeout = TimeSpan.FromSeconds(10) }, Token).AsTask(), Token);
        await Task.Delay(50, Token);
        Assert.False(waiting.IsCompleted);
        var released = Stopwatch.StartNew();
        await permits[0].ReleaseAsync(Token);
        await using var fourth = await waiting.WaitAsync(TimeSpan.FromSeconds(5), Token);
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] semaphore waiter admitted {released.Elapsed.TotalMilliseconds:F1} ms after a permit was released");

        // A permit whose holder never returns it comes back when its lease expires.
        await using var leased = await Task.Run(() => First.AcquireSemaphoreAsync("leases", 1, new LockOptions { TimeToLive = TimeSpan.FromMilliseconds(200) }, Token).AsTask(), Token);
        var next = await Second.AcquireSemaphoreAsync("leases", 1, new LockOptions { WaitTimeout = TimeSpan.FromSeconds(5) }, Token);
        await ProcessUtil.WaitUntilAsync(() => leased.HandleLost.IsCancellationRequested, TimeSpan.FromSeconds(2), "the expired permit to report its loss", Token);
        await next.DisposeAsync();

        foreach (var permit in permits)
        {
            await permit.DisposeAsync();
        }

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => First.TryAcquireSemaphoreAsync("pool", 0, cancellationToken: Token).AsTask());
    }

    [Fact]
    public async Task AcquireAllAsync_TakesAllInCanonicalOrderOrNone()
    {
        await using (var all = await First.AcquireAllAsync(["c", "a", "b", "a"], cancellationToken: Token))
        {
            Assert.Equal(["a", "b", "c"], all.Locks.Select(l => l.Name));
            Assert.Null(await Second.TryAcquireAsync("b", cancellationToken: Token));
            await all.ExtendAsync(TimeSpan.FromSeconds(60), Token);
            Assert.All(all.Locks, l => Assert.True(l.ExpiresAt > DateTimeOffset.UtcNow.AddSeconds(50)));
        }

        await using var blocker = await Second.AcquireAsync("b", cancellationToken: Token);
        var none = await Task.Run(() => First.TryAcquireAllAsync(["a", "b", "c"], new LockOptions { WaitTimeout = TimeSpan.FromMilliseconds(200) }, Token).AsTask(), Token);
        Assert.Null(none);
        Assert.Null(await First.GetInfoAsync("a", Token));
        Assert.Null(await First.GetInfoAsync("c", Token));
        var timeout = await Assert.ThrowsAsync<LockTimeoutException>(() => Task.Run(() => First.AcquireAllAsync(["a", "b"], new LockOptions { WaitTimeout = TimeSpan.FromMilliseconds(100) }, Token).AsTask(), Token));
        Assert.Equal("b", timeout.Name);
        await blocker.ReleaseAsync(Token);

        // Opposite orders from two processes, over and over: the canonical order means neither ever deadlocks.
        await Task.WhenAll(
            Task.Run(() => RepeatAsync(First, ["x", "y"]), Token),
            Task.Run(() => RepeatAsync(Second, ["y", "x"]), Token)).WaitAsync(TimeSpan.FromSeconds(20), Token);

        static async Task RepeatAsync(IDistributedLockManager locks, string[] names)
        {
            for (var i = 0; i < 20; i++)
            {
                await using var set = await locks.AcquireAllAsync(names, new LockOptions { WaitTimeout = TimeSpan.FromSeconds(10) }, Token);
                Assert.False(set.HandleLost.IsCancellationRequested);
            }
        }
    }

    [Fact]
    public async Task Leases_ExtendReleaseAndInspectByToken()
    {
        var options = new LockOptions { Owner = "api-client-7", TimeToLive = TimeSpan.FromSeconds(5) };
        var lease = await First.TryAcquireLeaseAsync("leased", options, Token);
        Assert.NotNull(lease);
        var again = await Second.TryAcquireLeaseAsync("leased", options, Token);
        Assert.Equal((lease.Token, lease.FencingToken, 2), (again!.Token, again.FencingToken, again.Count));
        Assert.Null(await Second.TryAcquireLeaseAsync("leased", new LockOptions { Owner = "api-client-8" }, Token));

        var extended = await Second.ExtendAsync("leased", lease.Token, TimeSpan.FromSeconds(60), Token);
        Assert.InRange(extended, DateTimeOffset.UtcNow.AddSeconds(55), DateTimeOffset.UtcNow.AddSeconds(65));
        var info = await First.GetInfoAsync("leased", Token);
        Assert.Equal(("api-client-7", lease.FencingToken, 2, LockMode.Exclusive), (info!.Owner, info.FencingToken, info.Holders[0].Count, info.Mode));
        Assert.InRange(info.TimeToLive, TimeSpan.FromSeconds(55), TimeSpan.FromSeconds(60));
        Assert.Equal(extended, info.ExpiresAt);
        Assert.Equal(lease.FencingToken, info.LastFencingToken);

        await First.ReleaseAsync("leased", lease.Token, Token);
        await Second.ReleaseAsync("leased", lease.Token, Token);
        await Assert.ThrowsAsync<LockNotHeldException>(() => First.ReleaseAsync("leased", lease.Token, Token).AsTask());
        Assert.Null(await First.GetInfoAsync("leased", Token));

        await Assert.ThrowsAsync<ArgumentException>(() => First.TryAcquireLeaseAsync("leased", new LockOptions { AutoRenew = true }, Token).AsTask());
    }

    [Fact]
    public async Task Leases_OwnerWithReentryToken_ReenterOnlyTheHoldOfThatToken()
    {
        LockOptions As(string? presented, TimeSpan? ttl = null, TimeSpan? wait = null) =>
            new() { Owner = "shared-name", ReentryToken = presented, TimeToLive = ttl ?? TimeSpan.FromSeconds(30), WaitTimeout = wait };

        var lease = await First.TryAcquireLeaseAsync("token-reentry", As(null), Token);
        Assert.NotNull(lease);

        // Naming the owner is not enough: an empty token, a stranger or a near miss finds the lock busy, also after a
        // wait, and changes nothing (no count, no 30-day expiry).
        foreach (var presented in new[] { string.Empty, "AAAAAAAAAAAAAAAAAAAAAA", lease.Token[..^1] + "x" })
        {
            Assert.Null(await Second.TryAcquireLeaseAsync("token-reentry", As(presented, TimeSpan.FromDays(30)), Token));
        }

        Assert.Null(await Second.TryAcquireLeaseAsync("token-reentry", As(string.Empty, wait: TimeSpan.FromMilliseconds(100)), Token));
        var info = await First.GetInfoAsync("token-reentry", Token);
        Assert.Equal(1, info!.Holders[0].Count);
        Assert.True(info.TimeToLive <= TimeSpan.FromSeconds(30));

        // The hold's own token re-enters it, from any process.
        var again = await Second.TryAcquireLeaseAsync("token-reentry", As(lease.Token, TimeSpan.FromSeconds(60)), Token);
        Assert.Equal((lease.Token, lease.FencingToken, 2), (again!.Token, again.FencingToken, again.Count));
        await First.ReleaseAsync("token-reentry", lease.Token, Token);
        await First.ReleaseAsync("token-reentry", lease.Token, Token);

        // Free: a presented token takes nothing over; the caller gets a new hold under a new token.
        var fresh = await Second.TryAcquireLeaseAsync("token-reentry", As(lease.Token), Token);
        Assert.NotEqual(lease.Token, fresh!.Token);
        Assert.True(fresh.FencingToken > lease.FencingToken);
        await Second.ReleaseAsync("token-reentry", fresh.Token, Token);

        // Readers share: a read refused re-entry for its token is a read hold of its own and leaves the owner's
        // index to the hold it had, which its token still re-enters.
        await using var reader = await First.AcquireReadAsync("token-reentry-read", new LockOptions { Owner = "reader" }, Token);
        await using var other = await Second.AcquireReadAsync("token-reentry-read", new LockOptions { Owner = "reader", ReentryToken = string.Empty }, Token);
        Assert.NotEqual(reader.Token, other.Token);
        await using var reentered = await Second.AcquireReadAsync("token-reentry-read", new LockOptions { Owner = "reader", ReentryToken = reader.Token }, Token);
        Assert.Equal(reader.Token, reentered.Token);

        // Asking to write as an owner that reads: without that read hold's token the caller is not that owner, so the
        // readers simply block it (no LockRecursionException that would tell it the owner reads); with it, the
        // upgrade is refused as for the owner itself.
        Assert.Null(await Second.TryAcquireLeaseAsync("token-reentry-read", new LockOptions { Owner = "reader", ReentryToken = "AAAAAAAAAAAAAAAAAAAAAA" }, Token));
        await Assert.ThrowsAsync<LockRecursionException>(() => Second.TryAcquireLeaseAsync("token-reentry-read", new LockOptions { Owner = "reader", ReentryToken = reader.Token }, Token).AsTask());
    }

    [Fact]
    public async Task ReleaseAsync_ByTokenOfHandleHeldHere_ReportsHandleLost()
    {
        var handle = await First.AcquireAsync("taken-away", cancellationToken: Token);

        await First.ReleaseAsync("taken-away", handle.Token, Token);

        Assert.Null(await First.GetInfoAsync("taken-away", Token));
        await ProcessUtil.WaitUntilAsync(() => handle.HandleLost.IsCancellationRequested, TimeSpan.FromSeconds(5), "the handle released by token to report the loss", Token);
        await handle.DisposeAsync();
    }

    [Fact]
    public async Task AcquireAsync_Fair_AdmitsWaitersInArrivalOrder()
    {
        var fair = new LockOptions { Fair = true, WaitTimeout = TimeSpan.FromSeconds(20) };
        var holder = await First.AcquireAsync("fifo", fair, Token);
        var order = new List<int>();
        var waiters = new List<Task>();
        for (var i = 0; i < 6; i++)
        {
            var index = i;
            waiters.Add(LockTestFlows.UnrelatedAsync(
                async () =>
                {
                    await using var handle = await (index % 2 == 0 ? First : Second).AcquireAsync("fifo", fair, Token);
                    lock (order)
                    {
                        order.Add(index);
                    }

                    return index;
                }));

            // Arrival order is the order the refused attempts reached Redis.
            await ProcessUtil.WaitUntilAsync(async () => (await First.GetInfoAsync("fifo", Token))!.Waiters == index + 1, TimeSpan.FromSeconds(5), "the waiter to queue", Token);
        }

        var started = Stopwatch.StartNew();
        await holder.ReleaseAsync(Token);
        await Task.WhenAll(waiters).WaitAsync(TimeSpan.FromSeconds(10), Token);

        Assert.Equal([0, 1, 2, 3, 4, 5], order);
        TestContext.Current.TestOutputHelper!.WriteLine($"[measure] 6 fair waiters across 2 hosts served in order in {started.Elapsed.TotalMilliseconds:F1} ms");
    }

    [Fact]
    public async Task AcquireAsync_WaitTimeoutRunsOut_ThrowsLockTimeoutAfterTheWait()
    {
        await using var holder = await First.AcquireAsync("busy", cancellationToken: Token);
        var started = Stopwatch.StartNew();

        var ex = await Assert.ThrowsAsync<LockTimeoutException>(() => Task.Run(() => Second.AcquireAsync("busy", new LockOptions { WaitTimeout = TimeSpan.FromMilliseconds(300) }, Token).AsTask(), Token));

        Assert.InRange(started.Elapsed, TimeSpan.FromMilliseconds(290), TimeSpan.FromSeconds(3));
        Assert.Equal(("busy", TimeSpan.FromMilliseconds(300)), (ex.Name, ex.WaitTimeout));
        Assert.IsAssignableFrom<TimeoutException>(ex);
        await ProcessUtil.WaitUntilAsync(async () => (await First.GetInfoAsync("busy", Token))!.Waiters == 0, TimeSpan.FromSeconds(2), "the timed-out waiter to leave the queue", Token);

        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        cancel.CancelAfter(100);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Second.AcquireAsync("busy", new LockOptions { WaitTimeout = Timeout.InfiniteTimeSpan }, cancel.Token).AsTask());
    }
}
