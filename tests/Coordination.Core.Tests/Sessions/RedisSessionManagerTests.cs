using System.Text.Json;
using Coordination.Core.Tests.TestSupport;

namespace Coordination.Core.Tests.Sessions;

/// <summary>What the manager decides before any call to Redis, and how Redis being down surfaces.</summary>
public sealed class RedisSessionManagerTests : IAsyncLifetime
{
    private UnreachableRedis? _redis;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private RedisSessionManager Sessions => _redis!.NewSessionRuntime().ForTenant("default");

    public async ValueTask InitializeAsync() =>
        _redis = await UnreachableRedis.StartAsync(new ResilienceOptions { AttemptTimeout = TimeSpan.FromMilliseconds(100), MaxRetryAttempts = 0 }, Token);

    public async ValueTask DisposeAsync() => await _redis!.DisposeAsync();

    [Fact]
    public async Task Calls_WhileRedisIsDown_ThrowCoordinationUnavailable()
    {
        var id = SessionId.New(SessionId.TagOf("coord", "default", "user-1"));

        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await Sessions.CreateAsync("user-1", cancellationToken: Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await Sessions.GetAsync(id, Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await Sessions.UpdateAsync(id, new Dictionary<string, JsonElement?>(), 1, Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await Sessions.DeleteAsync(id, Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await Sessions.ListForUserAsync("user-1", Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await Sessions.RevokeAllForUserAsync("user-1", Token));
        await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await Sessions.RotateAsync(id, Token));
    }

    [Fact]
    public async Task MalformedIds_AreAnsweredWithoutRedis()
    {
        Assert.Null(await Sessions.GetAsync("not-an-id", Token));
        Assert.Null(await Sessions.UpdateAsync("not-an-id", new Dictionary<string, JsonElement?> { ["a"] = null }, cancellationToken: Token));
        Assert.False(await Sessions.DeleteAsync("not-an-id", Token));
        Assert.Null(await Sessions.RotateAsync("not-an-id", Token));
    }

    [Fact]
    public async Task BadArguments_AreRefusedBeforeRedis()
    {
        var id = SessionId.New("0");
        var tooMany = Enumerable.Range(0, 257).ToDictionary(i => $"f{i}", i => (JsonElement?)JsonSerializer.SerializeToElement(i));

        await Assert.ThrowsAsync<ArgumentNullException>(async () => await Sessions.GetAsync(null!, Token));
        await Assert.ThrowsAsync<ArgumentNullException>(async () => await Sessions.UpdateAsync(id, null!, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Sessions.UpdateAsync(id, tooMany, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await Sessions.UpdateAsync(id, new Dictionary<string, JsonElement?> { ["a"] = default(JsonElement) }, cancellationToken: Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(async () => await Sessions.CreateAsync("user-1", options: new SessionOptions { IdleTimeout = TimeSpan.FromDays(2) }, cancellationToken: Token));
    }

    [Fact]
    public void ForTenant_KeepsOneManagerPerTenant_AndRefusesBadTenants()
    {
        var runtime = _redis!.NewSessionRuntime();

        Assert.Same(runtime.ForTenant("a"), runtime.ForTenant("a"));
        Assert.NotSame(runtime.ForTenant("a"), runtime.ForTenant("b"));
        Assert.Throws<ArgumentException>(() => runtime.ForTenant("a:b"));
    }
}
