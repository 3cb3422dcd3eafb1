using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests.Locks;

/// <summary>
/// What the lock manager decides before and without Redis: arguments are checked before any call, and with Redis
/// unreachable every acquisition fails closed with <see cref="CoordinationUnavailableException"/>.
/// </summary>
public sealed class RedisLockManagerTests : IAsyncLifetime
{
    private static readonly LockOptions Quick = new() { WaitTimeout = TimeSpan.Zero };

    private UnreachableRedis _redis = null!;
    private LockRuntime _runtime = null!;
    private RedisLockManager _locks = null!;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private long RedisAttempts => _redis.Pool.GetStatus().Connections.Sum(c => c.Operations);

    public async ValueTask InitializeAsync()
    {
        _redis = await UnreachableRedis.StartAsync(new ResilienceOptions { MaxRetryAttempts = 0 }, Token);
        _runtime = _redis.NewLockRuntime();
        _locks = _runtime.ForTenant("acme");
    }

    public async ValueTask DisposeAsync()
    {
        await _runtime.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad\nname")]
    public async Task AllCalls_InvalidName_ThrowWithoutCallingRedis(string name)
    {
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.AcquireAsync(name, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.TryAcquireAsync(name, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.AcquireReadAsync(name, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.TryAcquireReadAsync(name, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.AcquireSemaphoreAsync(name, 2, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.TryAcquireSemaphoreAsync(name, 2, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.AcquireAllAsync(["ok", name], cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.TryAcquireAllAsync([name], cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.TryAcquireLeaseAsync(name, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.ExtendAsync(name, LockRuntime.NewToken(), TimeSpan.FromSeconds(1), Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.ReleaseAsync(name, LockRuntime.NewToken(), Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.GetInfoAsync(name, Token).AsTask());

        Assert.Equal(0, RedisAttempts);
    }

    [Fact]
    public async Task Calls_InvalidOptionsOrArguments_ThrowWithoutCallingRedis()
    {
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _locks.AcquireAsync("n", new LockOptions { TimeToLive = TimeSpan.Zero }, Token).AsTask());
        await Assert.ThrowsAnyAsync<ArgumentException>(() => _locks.TryAcquireSemaphoreAsync("n", 0, cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.AcquireAllAsync([], cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.TryAcquireLeaseAsync("n", new LockOptions { AutoRenew = true, TimeToLive = TimeSpan.FromSeconds(1) }, Token).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => _locks.TryAcquireLeaseAsync("n", new LockOptions { Level = 1 }, Token).AsTask());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _locks.ExtendAsync("n", LockRuntime.NewToken(), TimeSpan.Zero, Token).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>(() => _locks.ExtendAsync("n", null!, TimeSpan.FromSeconds(1), Token).AsTask());
        await Assert.ThrowsAsync<ArgumentNullException>(() => _locks.ReleaseAsync("n", null!, Token).AsTask());

        Assert.Equal(0, RedisAttempts);
    }

    [Theory]
    [InlineData("#w")]
    [InlineData("short")]
    [InlineData("not base64url at all!!")]
    public async Task ExtendAndRelease_MalformedToken_NotHeldWithoutCallingRedis(string token)
    {
        var extend = await Assert.ThrowsAsync<LockNotHeldException>(() => _locks.ExtendAsync("n", token, TimeSpan.FromSeconds(1), Token).AsTask());
        await Assert.ThrowsAsync<LockNotHeldException>(() => _locks.ReleaseAsync("n", token, Token).AsTask());

        Assert.Equal("n", extend.Name);
        Assert.Equal(0, RedisAttempts);
    }

    [Fact]
    public async Task Acquisitions_RedisUnreachable_FailClosed()
    {
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.TryAcquireAsync("n", cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.AcquireAsync("n", cancellationToken: Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.TryAcquireReadAsync("n", Quick, Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.TryAcquireSemaphoreAsync("n", 3, Quick, Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.TryAcquireAllAsync(["a", "b"], Quick, Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.TryAcquireLeaseAsync("n", Quick, Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.ExtendAsync("n", LockRuntime.NewToken(), TimeSpan.FromSeconds(1), Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.ReleaseAsync("n", LockRuntime.NewToken(), Token).AsTask());
        await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _locks.GetInfoAsync("n", Token).AsTask());

        // Nothing is left recorded as held by the failed acquisitions.
        Assert.Equal(0, _locks.HeldCount);
        Assert.Null(LockFlow.LiveOwner());
        Assert.Equal(0, await _locks.ReleaseAllAsync(Token));
    }

    [Fact]
    public void Constructor_InvalidTenant_Throws() =>
        Assert.Throws<ArgumentException>(() => _runtime.ForTenant("a:b"));

    [Fact]
    public void Tenant_IsTheOneGiven() => Assert.Equal("acme", _locks.Tenant);

    [Fact]
    public async Task Coordinator_ExposesItsTenantsLockManager()
    {
        var fallback = new KeyValueFallback(null, new FallbackOptions(), _redis.Executor, _redis.Events, _redis.Metrics, NullLogger<KeyValueFallback>.Instance);
        await using var _ = fallback;
        await using var caches = _redis.NewCacheRuntime(_runtime);
        var coordinator = _redis.NewCoordinatorFactory(fallback, _runtime, caches).Get("acme");

        Assert.Same(_locks, coordinator.Locks);
        Assert.Same(_runtime.ForTenant("acme"), _runtime.ForTenant("acme"));
    }

    [Fact]
    public void PlatformLocks_AreOnePerTenant_AndNotTheTenantsOwn()
    {
        var platform = _runtime.For("acme");

        Assert.Same(platform, _runtime.For("acme"));
        Assert.NotSame(_locks, platform);
        Assert.Equal("acme", platform.Tenant);
    }

    [Fact]
    public async Task AddCoordination_WithLocks_ResolvesManagerOfDefaultTenantWithConfiguredOptions()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", $"127.0.0.1:{UnreachableRedis.FreeLoopbackPort()}"), new("Coordination:Tenant", "acme")]);
        builder.AddCoordination().WithLocks(o => o.RecheckInterval = TimeSpan.FromMilliseconds(42));
        using var host = builder.Build();

        var locks = host.Services.GetRequiredService<IDistributedLockManager>();

        Assert.Same(host.Services.GetRequiredService<IRedisCoordinator>().Locks, locks);
        Assert.Equal("acme", locks.Tenant);
        Assert.Equal(TimeSpan.FromMilliseconds(42), host.Services.GetRequiredService<IOptions<CoordinationOptions>>().Value.Locks.RecheckInterval);
        Assert.Throws<ArgumentNullException>(() => ((ICoordinationBuilder)null!).WithLocks(_ => { }));
        await host.StopAsync(Token);
    }

    [Theory]
    [InlineData("Coordination:Locks:RecheckInterval", "00:00:00.001", "RecheckInterval")]
    [InlineData("Coordination:Locks:ClockDriftFactor", "0.9", "ClockDriftFactor")]
    [InlineData("Coordination:Locks:DefaultTimeToLive", "00:00:00", "DefaultTimeToLive")]
    [InlineData("Coordination:Locks:MaxDeadlockCycleLength", "1", "MaxDeadlockCycleLength")]
    [InlineData("Coordination:Locks:MaxWaitersPerTenant", "0", "MaxWaitersPerTenant")]
    [InlineData("Coordination:Locks:MaxWaitersPerLock", "0", "MaxWaitersPerLock")]
    [InlineData("Coordination:Locks:MaxWaitTimeout", "31.00:00:00", "MaxWaitTimeout")]
    [InlineData("Coordination:Locks:MaxWaitTimeout", "00:00:10", "must not be above Coordination:Locks:MaxWaitTimeout")]
    public async Task StartAsync_BadLockOption_ThrowsNamingIt(string key, string value, string named)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection([new("ConnectionStrings:redis", $"127.0.0.1:{UnreachableRedis.FreeLoopbackPort()}"), new(key, value)]);
        builder.AddCoordination();
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(Token));

        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
    }
}
