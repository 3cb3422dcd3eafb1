using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Locks;

/// <summary>
/// The fast layout of an uncontended exclusive hold (a string, lock_fast_acquire.lua) against a real redis-server:
/// every other lock operation adopts it into the general layout first, so waiting, inspection, extension, re-entry
/// and fencing behave as they do for any hold.
/// </summary>
public sealed class LockFastLayoutTests(SharedRedisFixture redis) : IAsyncLifetime
{
    private LockHosts _hosts = null!;
    private IDatabase _admin = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    public async ValueTask InitializeAsync()
    {
        // Re-checks are made rare, so a waiter woken by anything but the release message would show as ~5 s.
        _hosts = await LockHosts.StartAsync(redis.ConnectionString, settings: [new("Coordination:Locks:RecheckInterval", "00:00:05")]);
        _admin = (await redis.GetAdminAsync()).GetDatabase();
    }

    public async ValueTask DisposeAsync() => await _hosts.DisposeAsync();

    [Fact]
    public async Task FastHold_WaiterOnOtherHost_AdoptsItAndIsWokenByTheRelease()
    {
        var holds = (RedisKey)_hosts[0].RedisKey("adopted", "lock");
        var holder = await _hosts.Locks(0).AcquireAsync("adopted", cancellationToken: Token);
        Assert.Equal(RedisType.String, await _admin.KeyTypeAsync(holds));

        long acquiredAt = 0;
        var waiter = LockTestFlows.UnrelatedAsync(async () =>
        {
            var taken = await _hosts.Locks(1).AcquireAsync("adopted", new LockOptions { WaitTimeout = TimeSpan.FromSeconds(10) }, Token);
            acquiredAt = Stopwatch.GetTimestamp();
            return taken;
        });

        // Only the waiter's own script touches the lock before the release: nothing else may adopt the hold here.
        await ProcessUtil.WaitUntilAsync(async () => await _admin.KeyExistsAsync(holds.Append(":qt")), TimeSpan.FromSeconds(5), "the waiter to be recorded", Token, TimeSpan.FromMilliseconds(1));
        Assert.Equal(RedisType.Hash, await _admin.KeyTypeAsync(holds));
        Assert.Equal(holder.Token, await LockLayout.WriterTokenAsync(_admin, holds));

        var releasedAt = Stopwatch.GetTimestamp();
        await holder.ReleaseAsync(Token);
        await using var next = await waiter.WaitAsync(TimeSpan.FromSeconds(5), Token);
        var handOff = Stopwatch.GetElapsedTime(releasedAt, acquiredAt);
        Output.WriteLine($"[measure] waiter took over an adopted fast hold {handOff.TotalMilliseconds:F2} ms after the release began (re-check interval 5 s)");
        Assert.True(handOff < TimeSpan.FromSeconds(1), $"{handOff.TotalMilliseconds:F0} ms: the release of an adopted fast hold must publish the wake-up.");
        Assert.True(next.FencingToken > holder.FencingToken);
    }

    [Fact]
    public async Task FastHold_InspectExtendAndReentry_WorkOnTheAdoptedHold()
    {
        var holds = (RedisKey)_hosts[0].RedisKey("inspected", "lock");
        var holder = await _hosts.Locks(0).AcquireAsync("inspected", new LockOptions { TimeToLive = TimeSpan.FromSeconds(20) }, Token);
        Assert.Equal(RedisType.String, await _admin.KeyTypeAsync(holds));

        // Inspection from another host sees the fast hold as it is.
        var info = await _hosts.Locks(1).GetInfoAsync("inspected", Token);
        Assert.NotNull(info);
        var only = Assert.Single(info.Holders);
        Assert.Equal((LockMode.Exclusive, holder.Owner, holder.FencingToken, 1), (only.Mode, only.Owner, only.FencingToken, only.Count));
        Assert.Equal(holder.ExpiresAt, only.ExpiresAt);
        Assert.Equal(holder.FencingToken, info.LastFencingToken);

        var extended = await holder.ExtendAsync(TimeSpan.FromSeconds(40), Token);
        Assert.InRange(await _admin.KeyTimeToLiveAsync(holds) ?? TimeSpan.Zero, TimeSpan.FromSeconds(35), TimeSpan.FromSeconds(40));
        Assert.True(extended > only.ExpiresAt);

        // The same flow re-enters: counted on the same hold and token.
        await using (var again = await _hosts.Locks(0).AcquireAsync("inspected", cancellationToken: Token))
        {
            Assert.Equal(holder.Token, again.Token);
            Assert.Equal(2, (await _hosts.Locks(1).GetInfoAsync("inspected", Token))!.Holders[0].Count);
        }

        Assert.Null(await _hosts.Locks(1).TryAcquireAsync("inspected", cancellationToken: Token));
        await holder.ReleaseAsync(Token);
        Assert.False(await _admin.KeyExistsAsync(holds));
        await using var next = await _hosts.Locks(1).TryAcquireAsync("inspected", cancellationToken: Token);
        Assert.NotNull(next);
    }

    [Fact]
    public async Task FastHold_ExpiresAt_IsRedisOwnExpiry_WhetherSentWholeOrAsLowBits()
    {
        // The first fast acquisition of a process asks for the whole expiry time, the ones after it get its low bits
        // (completed from Redis's clock as last read), and fencing tokens from 2^32 on make Redis send it whole again.
        var holds = (RedisKey)_hosts[0].RedisKey("expiring", "lock");
        var clock = ((RedisLockManager)_hosts.Locks(0)).Runtime.Clock;
        Assert.Null(clock.Current(TimeProvider.System.GetTimestamp()));

        async Task<long> AcquireAndCheckAsync()
        {
            await using var handle = await _hosts.Locks(0).AcquireAsync("expiring", new LockOptions { TimeToLive = TimeSpan.FromSeconds(20) }, Token);
            Assert.Equal(RedisType.String, await _admin.KeyTypeAsync(holds));
            var expiresAt = (long)await _admin.ExecuteAsync("PEXPIRETIME", holds);
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(expiresAt), handle.ExpiresAt);
            Assert.NotNull(clock.Current(TimeProvider.System.GetTimestamp()));
            return handle.FencingToken;
        }

        // A new name's counter starts from Redis's clock in seconds (LockFencingCounterTests), then counts by one.
        var first = await AcquireAndCheckAsync();
        for (var i = 1; i <= 4; i++)
        {
            Assert.Equal(first + i, await AcquireAndCheckAsync());
        }

        // The largest token sent with low bits, then the first ones sent whole.
        await _admin.StringSetAsync(holds.Append(":fence"), (1L << 32) - 2);
        Assert.Equal((1L << 32) - 1, await AcquireAndCheckAsync());
        Assert.Equal(1L << 32, await AcquireAndCheckAsync());
        Assert.Equal((1L << 32) + 1, await AcquireAndCheckAsync());

        // Far above: packed into one number, the expiry's low bits would be lost to Lua's doubles.
        await _admin.StringSetAsync(holds.Append(":fence"), 1L << 40);
        Assert.Equal((1L << 40) + 1, await AcquireAndCheckAsync());
    }

    [Fact]
    public async Task FencingTokens_AlternatingLayouts_StrictlyIncrease()
    {
        var fences = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            // Even rounds take the fast path; odd rounds a fair acquisition (always the general layout), then a
            // reader of the same lock, whose shared hold is general too.
            if (i % 2 == 0)
            {
                await using var fast = await _hosts.Locks(i % 4 == 0 ? 0 : 1).AcquireAsync("fenced", cancellationToken: Token);
                Assert.Equal(RedisType.String, await _admin.KeyTypeAsync(_hosts[0].RedisKey("fenced", "lock")));
                fences.Add(fast.FencingToken);
            }
            else
            {
                await using (var fair = await _hosts.Locks(1).AcquireAsync("fenced", new LockOptions { Fair = true }, Token))
                {
                    fences.Add(fair.FencingToken);
                }

                await using var reader = await _hosts.Locks(0).AcquireReadAsync("fenced", cancellationToken: Token);
                fences.Add(reader.FencingToken);
            }
        }

        Assert.Equal(fences.Order(), fences);
        Assert.Equal(fences.Count, fences.Distinct().Count());
    }

    [Fact]
    public async Task MixedAcquisitions_32WorkersOnTwoHosts_NoOverlapFencingIncreasing()
    {
        // Every way of taking the lock against the same name at once: fast tries, waits, fair waits, a named owner,
        // and readers, so fast holds are taken, adopted and released among holds of the general layout.
        const int Workers = 32;
        const int Sections = 3000;
        var remaining = Sections;
        var writers = 0;
        var readers = 0;
        var overlaps = 0;
        var entered = 0;
        var fences = new long[Sections];
        var byMode = new int[5];

        async Task<ILockHandle> TakeAsync(IDistributedLockManager locks, int worker, int mode)
        {
            var wait = TimeSpan.FromSeconds(60);
            switch (mode)
            {
                case 0:
                    while (true)
                    {
                        if (await locks.TryAcquireAsync("mixed", cancellationToken: Token) is { } taken)
                        {
                            return taken;
                        }

                        await Task.Delay(1, Token);
                    }

                case 1:
                    return await locks.AcquireAsync("mixed", new LockOptions { WaitTimeout = wait }, Token);
                case 2:
                    return await locks.AcquireAsync("mixed", new LockOptions { WaitTimeout = wait, Fair = true }, Token);
                case 3:
                    return await locks.AcquireAsync("mixed", new LockOptions { WaitTimeout = wait, Owner = $"worker-{worker}" }, Token);
                default:
                    return await locks.AcquireReadAsync("mixed", new LockOptions { WaitTimeout = wait }, Token);
            }
        }

        async Task WorkAsync(int worker)
        {
            var locks = _hosts.Locks(worker % 2);
            for (var round = 0; Interlocked.Decrement(ref remaining) >= 0; round++)
            {
                var mode = (worker + round) % 5;
                await using var handle = await TakeAsync(locks, worker, mode);
                Interlocked.Increment(ref byMode[mode]);
                if (mode == 4)
                {
                    Interlocked.Increment(ref readers);
                    if (Volatile.Read(ref writers) != 0)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    await Task.Yield();
                    Interlocked.Decrement(ref readers);
                    continue;
                }

                if (Interlocked.Increment(ref writers) != 1 || Volatile.Read(ref readers) != 0)
                {
                    Interlocked.Increment(ref overlaps);
                }

                fences[Interlocked.Increment(ref entered) - 1] = handle.FencingToken;
                await LockTestFlows.IncrementUnguardedAsync(_hosts[worker % 2].Coordinator, "mixed-counter", Token);
                Interlocked.Decrement(ref writers);
            }
        }

        var clock = Stopwatch.StartNew();
        var errors = await LockTestFlows.RunWorkersAsync(Workers, WorkAsync, TimeSpan.FromSeconds(120), Token);

        Assert.Empty(errors);
        Assert.Equal(0, overlaps);
        Assert.All(byMode, count => Assert.True(count > 0));
        Assert.Equal(entered, (await _hosts[0].Coordinator.GetAsync<long>("mixed-counter", Token)).Value);
        var exclusive = fences[..entered];
        Assert.Equal(exclusive.Order(), exclusive);
        Assert.Equal(exclusive.Length, exclusive.Distinct().Count());

        Output.WriteLine($"[measure] {Sections} mixed critical sections by {Workers} workers on 2 hosts in {clock.Elapsed.TotalSeconds:F2} s " +
            $"(fast tries {byMode[0]}, waits {byMode[1]}, fair waits {byMode[2]}, named owner {byMode[3]}, readers {byMode[4]}): 0 overlaps, exclusive fencing strictly increasing");
    }

    [Fact]
    public async Task FastRelease_HoldReplacedBehindItsBack_LeavesTheNewHolderAlone()
    {
        var holds = (RedisKey)_hosts[0].RedisKey("replaced", "lock");
        var stale = await _hosts.Locks(0).AcquireAsync("replaced", cancellationToken: Token);

        // The hold vanishes (as after a failover to a replica that never had it) and another host takes the lock.
        Assert.True(await _admin.KeyDeleteAsync(holds));
        await using var current = await _hosts.Locks(1).AcquireAsync("replaced", cancellationToken: Token);
        Assert.Equal(RedisType.String, await _admin.KeyTypeAsync(holds));

        // The stale handle's release runs the fast release with its own token: it must not touch the new hold.
        await stale.ReleaseAsync(Token);
        Assert.Equal(current.Token, await LockLayout.WriterTokenAsync(_admin, holds));
        Assert.Null(await _hosts.Locks(0).TryAcquireAsync("replaced", cancellationToken: Token));
        Assert.True(current.FencingToken > stale.FencingToken);
    }
}
