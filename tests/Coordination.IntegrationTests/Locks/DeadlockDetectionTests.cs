using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// Deadlock detection across processes: owners on different hosts take locks in crossed order; the one whose wait
/// would close the cycle fails at once with <see cref="DeadlockDetectedException"/>, the others proceed.
/// </summary>
public sealed class DeadlockDetectionTests(SharedRedisFixture redis) : IAsyncLifetime
{
    private static readonly LockOptions Waiting = new() { WaitTimeout = TimeSpan.FromSeconds(20), TimeToLive = TimeSpan.FromSeconds(30) };

    private LockHosts _hosts = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    public async ValueTask InitializeAsync() => _hosts = await LockHosts.StartAsync(redis.ConnectionString, count: 3);

    public async ValueTask DisposeAsync() => await _hosts.DisposeAsync();

    [Fact]
    public async Task AcquireAsync_TwoOwnersCrossedOrder_OneGetsDeadlockAtOnceTheOtherProceeds()
    {
        var outcomes = await RunCycleAsync(["a", "b"]);

        var victim = Assert.Single(outcomes, o => o.Deadlock is not null);
        Assert.Single(outcomes, o => o.Completed);
        Assert.Equal(2, victim.Deadlock!.Cycle.Count);
        Assert.Equal(victim.Owner, victim.Deadlock.Cycle[0].Owner);
        Assert.Equal(["a", "b"], victim.Deadlock.Cycle.Select(e => e.Name).Order(StringComparer.Ordinal));
        Assert.Equal(outcomes.Select(o => o.Owner).Order(StringComparer.Ordinal), victim.Deadlock.Cycle.Select(e => e.Owner).Order(StringComparer.Ordinal));
        Output.WriteLine($"[measure] 2-owner deadlock detected {victim.DetectedAfter.TotalMilliseconds:F1} ms after both owners started waiting");
        Assert.True(victim.DetectedAfter < TimeSpan.FromSeconds(1), $"Detection took {victim.DetectedAfter}.");
    }

    [Fact]
    public async Task AcquireAsync_ThreeOwnerCycleOnThreeHosts_OneGetsDeadlockTheOthersProceed()
    {
        var outcomes = await RunCycleAsync(["x", "y", "z"]);

        var victim = Assert.Single(outcomes, o => o.Deadlock is not null);
        Assert.Equal(2, outcomes.Count(o => o.Completed));
        Assert.Equal(3, victim.Deadlock!.Cycle.Count);
        Assert.Equal(["x", "y", "z"], victim.Deadlock.Cycle.Select(e => e.Name).Order(StringComparer.Ordinal));
        Output.WriteLine($"[measure] 3-owner deadlock detected {victim.DetectedAfter.TotalMilliseconds:F1} ms after all owners started waiting");
        Assert.True(victim.DetectedAfter < TimeSpan.FromSeconds(1), $"Detection took {victim.DetectedAfter}.");
    }

    [Fact]
    public async Task AcquireAsync_WaitChainWithoutCycle_NoDeadlockEveryoneProceeds()
    {
        // c1 holds p and waits for q; c2 holds q and waits for r; r's holder waits for nothing and releases.
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var r = await _hosts.Locks(2).AcquireAsync("r", cancellationToken: Token);
        var c2Holds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var c2 = LockTestFlows.UnrelatedAsync(async () =>
        {
            await using var q = await _hosts.Locks(1).AcquireAsync("q", cancellationToken: Token);
            c2Holds.SetResult();
            await using var next = await _hosts.Locks(1).AcquireAsync("r", Waiting, Token);
            return true;
        });
        await c2Holds.Task.WaitAsync(TimeSpan.FromSeconds(5), Token);
        var c1 = LockTestFlows.UnrelatedAsync(async () =>
        {
            await using var p = await _hosts.Locks(0).AcquireAsync("p", cancellationToken: Token);
            await using var next = await _hosts.Locks(0).AcquireAsync("q", Waiting, Token);
            return true;
        });
        await ProcessUtil.WaitUntilAsync(async () => (await _hosts.Locks(0).GetInfoAsync("q", Token))!.Waiters == 1, TimeSpan.FromSeconds(5), "c1 to wait", Token);

        await r.ReleaseAsync(Token);

        Assert.True(await c2.WaitAsync(TimeSpan.FromSeconds(10), Token));
        Assert.True(await c1.WaitAsync(TimeSpan.FromSeconds(10), Token));
    }

    [Fact]
    public async Task AcquireAsync_OtherSideOfCycleCrashed_NoFalseDeadlockOnceItsWaitExpired()
    {
        // A waiter that crashed never removes its wait; its lease (3 re-checks + 1 attempt timeout: 350 ms here)
        // ends it. Its lock stays held until its own TTL (2 s), which is what the survivor must wait for.
        await using var crashed = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            _hosts[0].KeyPrefix,
            [new("Coordination:Locks:RecheckInterval", "00:00:00.050"), new("Coordination:Resilience:AttemptTimeout", "00:00:00.200")]);
        var crashedLocks = (IDistributedLockManager)crashed.Services.GetService(typeof(IDistributedLockManager))!;
        var survivor = _hosts.Locks(1);
        await using var held = await survivor.AcquireAsync("held-by-survivor", new LockOptions { TimeToLive = TimeSpan.FromSeconds(30) }, Token);
        var crashedHold = await LockTestFlows.UnrelatedAsync(async () =>
        {
            var mine = await crashedLocks.AcquireAsync("held-by-crashed", new LockOptions { TimeToLive = TimeSpan.FromSeconds(2) }, Token);
            _ = crashedLocks.AcquireAsync("held-by-survivor", Waiting, Token).AsTask();
            return mine;
        });
        await ProcessUtil.WaitUntilAsync(async () => (await survivor.GetInfoAsync("held-by-survivor", Token))!.Waiters == 1, TimeSpan.FromSeconds(5), "the doomed waiter", Token);
        await crashed.Executor.Pool.DisposeAsync();
        var crashedAt = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromMilliseconds(500), Token);

        // Had the dead wait stayed in the graph, this would be reported as a deadlock.
        await using var taken = await survivor.AcquireAsync("held-by-crashed", Waiting, Token);

        Output.WriteLine($"[measure] lock of a crashed owner taken {crashedAt.Elapsed.TotalMilliseconds:F0} ms after the crash (its TTL: 2000 ms from acquisition)");
        Assert.InRange(crashedAt.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3));
        Assert.True(crashedHold.FencingToken < taken.FencingToken);
    }

    private async Task<Outcome[]> RunCycleAsync(string[] names)
    {
        var count = names.Length;
        var holding = new CountdownEvent(count);
        var allHold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waitingFrom = 0L;
        var tasks = Enumerable.Range(0, count).Select(i => LockTestFlows.UnrelatedAsync(async () =>
        {
            var locks = _hosts.Locks(i % _hosts.Hosts.Length);
            await using var first = await locks.AcquireAsync(names[i], Waiting, Token);
            if (holding.Signal())
            {
                Interlocked.Exchange(ref waitingFrom, Stopwatch.GetTimestamp());
                allHold.SetResult();
            }

            await allHold.Task;
            try
            {
                await using var second = await locks.AcquireAsync(names[(i + 1) % count], Waiting, Token);
                return new Outcome(first.Owner, true, null, TimeSpan.Zero);
            }
            catch (DeadlockDetectedException ex)
            {
                // Leaving the scope releases the first lock, which lets the others proceed.
                return new Outcome(first.Owner, false, ex, Stopwatch.GetElapsedTime(Interlocked.Read(ref waitingFrom)));
            }
        })).ToArray();

        return await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30), Token);
    }

    private sealed record Outcome(string Owner, bool Completed, DeadlockDetectedException? Deadlock, TimeSpan DetectedAfter);
}
