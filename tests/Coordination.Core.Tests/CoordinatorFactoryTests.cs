using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Coordination.Core.Tests;

public sealed class CoordinatorFactoryTests : IAsyncDisposable
{
    private readonly UnreachableRedis _redis = UnreachableRedis.Create();
    private readonly KeyValueFallback _fallback;
    private readonly LockRuntime _locks;
    private readonly CacheRuntime _caches;
    private readonly CoordinatorFactory _factory;

    public CoordinatorFactoryTests()
    {
        _fallback = new KeyValueFallback(null, new FallbackOptions(), _redis.Executor, _redis.Events, _redis.Metrics, NullLogger<KeyValueFallback>.Instance);
        _locks = _redis.NewLockRuntime();
        _caches = _redis.NewCacheRuntime(_locks);
        _factory = _redis.NewCoordinatorFactory(_fallback, _locks, _caches);
    }

    public async ValueTask DisposeAsync()
    {
        await _caches.DisposeAsync();
        await _locks.DisposeAsync();
        await _fallback.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public void ForTenant_SameTenant_SameInstance()
    {
        var first = _factory.ForTenant("acme");

        Assert.Same(first, _factory.ForTenant("acme"));
        Assert.Equal("acme", first.Tenant);
    }

    [Fact]
    public void ForTenant_TenantsAreCaseSensitiveAndDistinct()
    {
        Assert.NotSame(_factory.ForTenant("acme"), _factory.ForTenant("Acme"));
        Assert.Equal(2, _factory.All.Count);
    }

    [Theory]
    [InlineData("")]
    [InlineData("acme:other")]
    [InlineData("acme other")]
    [InlineData("*")]
    public void ForTenant_InvalidTenant_ThrowsAndCreatesNothing(string tenant)
    {
        var ex = Assert.Throws<ArgumentException>(() => _factory.ForTenant(tenant));

        Assert.Equal("tenant", ex.ParamName);
        Assert.Empty(_factory.All);
    }

    [Fact]
    public void ForTenant_Null_ThrowsArgumentNullException() =>
        Assert.Throws<ArgumentNullException>(() => _factory.ForTenant(null!));
}
