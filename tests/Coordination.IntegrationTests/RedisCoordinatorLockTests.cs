using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests;

/// <summary>
/// <see cref="IRedisCoordinator.LockAsync"/> / <see cref="IRedisCoordinator.UnlockAsync"/> between two hosts with
/// their own connections (two processes, as far as Redis can tell) on the same key prefix.
/// </summary>
public sealed class RedisCoordinatorLockTests(SharedRedisFixture redis) : IAsyncLifetime
{
    private CoordinationTestHost _first = null!;
    private CoordinationTestHost _second = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var prefix = TestKeys.NewPrefix();
        _first = await CoordinationTestHost.StartAsync(redis.ConnectionString, prefix, hostName: "first");
        _second = await CoordinationTestHost.StartAsync(redis.ConnectionString, prefix, hostName: "second");
    }

    public async ValueTask DisposeAsync()
    {
        await _first.DisposeAsync();
        await _second.DisposeAsync();
    }

    [Fact]
    public async Task LockAsync_HeldByAnotherHost_ReturnsFalse()
    {
        Assert.True(await _first.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));

        Assert.False(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
        Assert.False(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
    }

    [Fact]
    public async Task UnlockAsync_ByNonOwner_ReturnsFalseAndLeavesLockHeld()
    {
        Assert.True(await _first.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var lockKey = _first.RedisKey("job", "lock");
        var holderToken = await LockLayout.WriterTokenAsync(admin, lockKey);
        Assert.False(string.IsNullOrEmpty(holderToken));

        // A coordinator that never took the lock (another process), and the same process's other tenant.
        Assert.False(await _second.Coordinator.UnlockAsync("job", Token));
        Assert.False(await _first.Factory.ForTenant("other").UnlockAsync("job", Token));
        Assert.False(await _second.Factory.ForTenant("other").UnlockAsync("job", Token));

        Assert.Equal(holderToken, await LockLayout.WriterTokenAsync(admin, lockKey));
        Assert.False(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
    }

    [Fact]
    public async Task UnlockAsync_ByOwner_ReleasesSoAnotherHostCanLock()
    {
        Assert.True(await _first.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
        Assert.False(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));

        Assert.True(await _first.Coordinator.UnlockAsync("job", Token));

        Assert.True(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
        Assert.False(await _first.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));

        // The former owner's second unlock does not release the new holder's lock.
        Assert.False(await _first.Coordinator.UnlockAsync("job", Token));
        Assert.False(await _first.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
    }

    [Fact]
    public async Task LockAsync_TimeToLiveElapsed_FreesLockForAnotherHost()
    {
        Assert.True(await _first.Coordinator.LockAsync("job", TimeSpan.FromMilliseconds(300), Token));
        Assert.False(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));

        await Task.Delay(TimeSpan.FromMilliseconds(450), Token);

        Assert.True(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));

        // The expired owner neither re-takes nor releases the new holder's lock.
        Assert.False(await _first.Coordinator.UnlockAsync("job", Token));
        Assert.False(await _first.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
        Assert.True(await _second.Coordinator.UnlockAsync("job", Token));
    }

    [Fact]
    public async Task LockAsync_ByOwnerAgain_RefreshesTimeToLive()
    {
        var admin = (await redis.GetAdminAsync()).GetDatabase();
        var lockKey = _first.RedisKey("job", "lock");
        Assert.True(await _first.Coordinator.LockAsync("job", TimeSpan.FromMilliseconds(800), Token));
        var token = await LockLayout.WriterTokenAsync(admin, lockKey);

        await Task.Delay(TimeSpan.FromMilliseconds(500), Token);
        Assert.True(await _first.Coordinator.LockAsync("job", TimeSpan.FromMilliseconds(800), Token));

        var ttl = await admin.KeyTimeToLiveAsync(lockKey);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromMilliseconds(600), TimeSpan.FromMilliseconds(800));
        Assert.Equal(token, await LockLayout.WriterTokenAsync(admin, lockKey));

        // Past the first TTL the lock is still held, thanks to the refresh.
        await Task.Delay(TimeSpan.FromMilliseconds(450), Token);
        Assert.False(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
        Assert.True(await _first.Coordinator.UnlockAsync("job", Token));
        Assert.True(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
    }

    [Fact]
    public async Task LockAsync_WithoutTimeToLive_UsesDefaultLockTtl()
    {
        var admin = (await redis.GetAdminAsync()).GetDatabase();

        Assert.True(await _first.Coordinator.LockAsync("default-ttl", cancellationToken: Token));

        var ttl = await admin.KeyTimeToLiveAsync(_first.RedisKey("default-ttl", "lock"));
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, _first.Options.DefaultLockTtl - TimeSpan.FromSeconds(2), _first.Options.DefaultLockTtl);
    }

    [Fact]
    public async Task LockAsync_SameNameInAnotherTenant_IsAnIndependentLock()
    {
        Assert.True(await _first.Factory.ForTenant("a").LockAsync("job", TimeSpan.FromSeconds(30), Token));

        Assert.True(await _second.Factory.ForTenant("b").LockAsync("job", TimeSpan.FromSeconds(30), Token));
        Assert.False(await _second.Factory.ForTenant("a").LockAsync("job", TimeSpan.FromSeconds(30), Token));
    }

    [Fact]
    public async Task LockAsync_LockAndValueOfSameName_DoNotCollide()
    {
        await _first.Coordinator.SetAsync("job", "payload", cancellationToken: Token);

        Assert.True(await _second.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
        Assert.Equal("payload", (await _first.Coordinator.GetAsync<string>("job", Token)).Value);
        Assert.True(await _first.Coordinator.DeleteAsync("job", Token));
        Assert.False(await _first.Coordinator.LockAsync("job", TimeSpan.FromSeconds(30), Token));
    }
}
