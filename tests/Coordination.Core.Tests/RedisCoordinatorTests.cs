using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;

namespace Coordination.Core.Tests;

/// <summary>
/// What the coordinator decides before and without Redis: argument checks happen before any call, and with Redis
/// unreachable and no fallback every call fails with <see cref="CoordinationUnavailableException"/>.
/// </summary>
public sealed class RedisCoordinatorTests : IAsyncLifetime
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private UnreachableRedis _redis = null!;
    private KeyValueFallback _fallback = null!;
    private CoordinatorFactory _factory = null!;
    private RedisCoordinator _coordinator = null!;

    public async ValueTask InitializeAsync()
    {
        _redis = await UnreachableRedis.StartAsync(new ResilienceOptions { MaxRetryAttempts = 0 }, Token);
        _fallback = new KeyValueFallback(null, new FallbackOptions(), _redis.Executor, _redis.Events, _redis.Metrics, NullLogger<KeyValueFallback>.Instance);
        var options = new CoordinationOptions { MaxValueBytes = 64 };
        var locks = _redis.NewLockRuntime(options);
        _factory = _redis.NewCoordinatorFactory(_fallback, locks, _redis.NewCacheRuntime(locks, options), options);
        _coordinator = _factory.Get("acme");
    }

    public async ValueTask DisposeAsync()
    {
        await _fallback.DisposeAsync();
        await _redis.DisposeAsync();
    }

    private long RedisAttempts => _redis.Pool.GetStatus().Connections.Sum(c => c.Operations);

    [Theory]
    [InlineData("")]
    [InlineData("a:b")]
    [InlineData("two words")]
    [InlineData("caf\u00e9")]
    public void Constructor_InvalidTenant_Throws(string tenant) =>
        Assert.Throws<ArgumentException>(() => _factory.Get(tenant));

    [Theory]
    [InlineData("")]
    [InlineData("bad\nkey")]
    public async Task AllCalls_InvalidKey_ThrowArgumentExceptionWithoutCallingRedis(string key)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _coordinator.SetAsync(key, 1, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _coordinator.GetAsync<int>(key, Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _coordinator.GetWithTimeToLiveAsync<int>(key, Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _coordinator.DeleteAsync(key, Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _coordinator.LockAsync(key, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _coordinator.UnlockAsync(key, Token).AsTask());

        Assert.Equal(0, RedisAttempts);
    }

    [Fact]
    public async Task SetAsync_KeyOf513Bytes_Rejected()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _coordinator.SetAsync(new string('k', 513), 1, cancellationToken: Token).AsTask());

        Assert.Equal("key", ex.ParamName);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(0.0009)]
    [InlineData(30 * 24 * 3600 + 1)]
    public async Task SetAndLock_TimeToLiveOutOfRange_ThrowArgumentOutOfRange(double seconds)
    {
        var ttl = TimeSpan.FromSeconds(seconds);

        var set = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _coordinator.SetAsync("k", 1, ttl, Token).AsTask());
        var lockEx = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _coordinator.LockAsync("k", ttl, Token).AsTask());

        Assert.Equal("timeToLive", set.ParamName);
        Assert.Equal("timeToLive", lockEx.ParamName);
        Assert.Equal(0, RedisAttempts);
    }

    [Theory]
    [InlineData(0.001)]
    [InlineData(30 * 24 * 3600)]
    public async Task SetAsync_TimeToLiveAtTheBounds_PassesValidationAndReachesRedis(double seconds)
    {
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _coordinator.SetAsync("k", 1, TimeSpan.FromSeconds(seconds), Token).AsTask());

        Assert.Equal(1, RedisAttempts);
    }

    [Fact]
    public async Task SetAsync_ValueLargerThanMaxValueBytes_ThrowsWithoutCallingRedis()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => _coordinator.SetAsync("k", new string('x', 100), cancellationToken: Token).AsTask());

        Assert.Equal("value", ex.ParamName);
        Assert.Contains("64", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, RedisAttempts);
    }

    [Fact]
    public async Task KeyValueCalls_RedisDownNoFallback_ThrowUnavailable()
    {
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _coordinator.SetAsync("k", 1, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _coordinator.GetAsync<int>("k", Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _coordinator.GetWithTimeToLiveAsync<int>("k", Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _coordinator.DeleteAsync("k", Token).AsTask());
    }

    [Fact]
    public async Task LockAsync_RedisDown_FailsClosed()
    {
        var ex = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _coordinator.LockAsync("k", cancellationToken: Token).AsTask());

        Assert.Equal(UnavailableReason.ConnectionFailed, ex.Reason);
        Assert.Equal(0, _coordinator.HeldLockCount);
    }

    [Fact]
    public async Task UnlockAsync_LockNeverTaken_FalseWithoutCallingRedis()
    {
        Assert.False(await _coordinator.UnlockAsync("never-taken", Token));

        Assert.Equal(0, RedisAttempts);
    }

    [Fact]
    public async Task ReleaseAllAsync_NoLocksHeld_NothingToRelease()
    {
        Assert.Equal(0, await _coordinator.ReleaseAllAsync(Token));
        Assert.Equal(0, RedisAttempts);
    }

    [Fact]
    public void Tenant_IsTheOneGiven() => Assert.Equal("acme", _coordinator.Tenant);
}
