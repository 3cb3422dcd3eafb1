using System.Diagnostics;
using System.Globalization;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Quotas;

/// <summary>
/// The per-tenant lock-name quota (<c>Coordination:Quotas:MaxLockNamesPerTenant</c>) against a real redis-server:
/// every new lock name leaves a fencing counter for 62 days, so a tenant cannot leave more counters than its quota by
/// locking fresh names, a refusal leaves nothing behind, and the other tenants do not notice.
/// </summary>
public sealed class LockNameQuotaTests(SharedRedisFixture redis) : IAsyncLifetime
{
    private const int Quota = 5;

    private CoordinationTestHost _host = null!;
    private IDatabase _admin = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    public async ValueTask InitializeAsync()
    {
        _host = await CoordinationTestHost.StartAsync(redis.ConnectionString, settings: [new("Coordination:Quotas:MaxLockNamesPerTenant", Quota.ToString(CultureInfo.InvariantCulture))]);
        _admin = (await redis.GetAdminAsync()).GetDatabase();
    }

    public async ValueTask DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task TryAcquireAsync_FreshNamesPastTheQuota_AreRefusedAndLeaveNoCounter_OtherTenantsUnaffected()
    {
        using var refusals = new HostCounter(_host, "coordination.quota.refusals");
        var hog = _host.Factory.ForTenant("hog").Locks;
        var neighbour = _host.Factory.ForTenant("neighbour").Locks;
        for (var i = 0; i < Quota; i++)
        {
            await using var held = await hog.TryAcquireAsync($"n{i}", cancellationToken: Token);
            Assert.NotNull(held);
        }

        // Acquired and released at once, as a caller minting names would: each would leave a counter for 62 days.
        for (var i = Quota; i < Quota + 20; i++)
        {
            var refused = await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await hog.TryAcquireAsync($"n{i}", cancellationToken: Token));
            Assert.Equal(("lock-names", (long)Quota), (refused.Quota, refused.Limit));
        }

        Assert.Equal(Quota, await CountCountersAsync("hog", "lock"));
        Assert.Equal(20, refusals.Total);
        // Nothing of a refused name stays: no hold either.
        Assert.Null(await hog.GetInfoAsync($"n{Quota}", Token));

        // A name the tenant already has is not new state: acquiring it at the quota works, on the fast path or not.
        await using (var again = await hog.TryAcquireAsync("n0", cancellationToken: Token))
        {
            Assert.NotNull(again);
            await using var read = await hog.TryAcquireReadAsync("n1", cancellationToken: Token);
            Assert.NotNull(read);
        }

        // Semaphores are names too (their own counters).
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await hog.TryAcquireSemaphoreAsync("s0", 2, cancellationToken: Token));
        Assert.Equal(0, await CountCountersAsync("hog", "semaphore"));

        var elapsed = new List<double>();
        for (var i = 0; i < Quota; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await using var held = await neighbour.TryAcquireAsync($"n{i}", cancellationToken: Token);
            elapsed.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            Assert.NotNull(held);
        }

        Output.WriteLine($"[measure] the neighbour's new names while the hog is at its quota: {string.Join(", ", elapsed.Select(ms => ms.ToString("F2", CultureInfo.InvariantCulture)))} ms");
        Assert.Equal(Quota, await CountCountersAsync("neighbour", "lock"));
        Assert.True(elapsed.Min() < 100, "The neighbour's acquisitions are slow.");
    }

    [Fact]
    public async Task AcquireAsync_GeneralLayoutAndSemaphores_CountTheirNewCounters()
    {
        var tenant = _host.Factory.ForTenant("general").Locks;
        // Read locks and semaphores create counters through lock_acquire.lua (next_fence), not the fast path.
        for (var i = 0; i < Quota; i++)
        {
            await using var held = i % 2 == 0
                ? await tenant.AcquireReadAsync($"r{i}", cancellationToken: Token)
                : await tenant.AcquireSemaphoreAsync($"s{i}", 3, cancellationToken: Token);
        }

        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.AcquireReadAsync("r-over", cancellationToken: Token));
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.AcquireSemaphoreAsync("s-over", 3, cancellationToken: Token));
        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.AcquireAsync("w-over", cancellationToken: Token));
        Assert.Equal(Quota, await CountCountersAsync("general", "lock") + await CountCountersAsync("general", "semaphore"));
        Assert.Null(await tenant.GetInfoAsync("r-over", Token));
        Assert.Equal(Quota, await _admin.SortedSetLengthAsync(Ledger(_host.KeyPrefix, "general")));
    }

    [Fact]
    public async Task NamesWhoseCounterLifePassed_FreePlaces()
    {
        var tenant = _host.Factory.ForTenant("aging").Locks;
        for (var i = 0; i < Quota; i++)
        {
            await using var held = await tenant.TryAcquireAsync($"n{i}", cancellationToken: Token);
        }

        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.TryAcquireAsync("fresh", cancellationToken: Token));

        // 62 days later, as far as the ledger knows: two names' counters would have expired unless locked again.
        var ledger = Ledger(_host.KeyPrefix, "aging");
        await _admin.SortedSetAddAsync(ledger, [new("lock:n0", 1), new("lock:n1", 1)]);
        await using (var first = await tenant.TryAcquireAsync("fresh", cancellationToken: Token))
        {
            Assert.NotNull(first);
        }

        await using (var second = await tenant.TryAcquireAsync("fresh-2", cancellationToken: Token))
        {
            Assert.NotNull(second);
        }

        await Assert.ThrowsAsync<CoordinationQuotaExceededException>(async () => await tenant.TryAcquireAsync("fresh-3", cancellationToken: Token));
        Assert.Equal(Quota, await _admin.SortedSetLengthAsync(ledger));
        // The ledger lives as long as its newest name's counter would.
        var ttl = await _admin.KeyTimeToLiveAsync(ledger);
        Assert.InRange(ttl!.Value, TimeSpan.FromDays(62) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(62));
    }

    [Fact]
    public async Task Undo_DeletesTheCounterOnlyWhileItHoldsTheSeed()
    {
        // A refused acquisition is undone after the count, on the lock's slot: if someone else incremented the
        // counter meanwhile, that caller was handed a token, so the counter must stay for tokens to keep increasing.
        var keys = new LockKeys(_host.KeyPrefix, "undo", "lock", "x");
        await _admin.StringSetAsync(keys.All[2], "1700000001");
        RedisValue[] release = ["no-such-token", "1", LockKeys.Channel(_host.KeyPrefix), "1700000000"];
        await RedisScript.LockRelease.EvaluateAsync(_admin, keys.All, release);
        Assert.Equal("1700000001", (string?)await _admin.StringGetAsync(keys.All[2]));

        await _admin.StringSetAsync(keys.All[2], "1700000000");
        await RedisScript.LockRelease.EvaluateAsync(_admin, keys.All, release);
        Assert.False(await _admin.KeyExistsAsync(keys.All[2]));
    }

    [Fact]
    public async Task QuotaOff_KeepsNoLedger()
    {
        await using var unlimited = await CoordinationTestHost.StartAsync(redis.ConnectionString, settings: [new("Coordination:Quotas:MaxLockNamesPerTenant", "0")]);
        for (var i = 0; i < Quota * 2; i++)
        {
            await using var held = await unlimited.Coordinator.Locks.TryAcquireAsync($"n{i}", cancellationToken: Token);
            await using var semaphore = await unlimited.Coordinator.Locks.TryAcquireSemaphoreAsync($"s{i}", 2, cancellationToken: Token);
            Assert.NotNull(held);
            Assert.NotNull(semaphore);
        }

        Assert.False(await _admin.KeyExistsAsync(Ledger(unlimited.KeyPrefix, "default")));
    }

    private static RedisKey Ledger(string prefix, string tenant) => $"{prefix}:{tenant}:lock-ledger:{{{prefix}:{tenant}}}";

    /// <summary>The tenant's fencing counters in Redis, whatever the client believes.</summary>
    private async Task<int> CountCountersAsync(string tenant, string capability) =>
        (await redis.KeysAsync($"{_host.KeyPrefix}:{tenant}:{capability}:*:fence")).Count;
}
