using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Resilience;

/// <summary>
/// Redis at its memory limit (<c>maxmemory</c> with <c>noeviction</c>) answers writes with OOM: every capability turns
/// that into <see cref="CoordinationUnavailableException"/> with <see cref="UnavailableReason.OutOfMemory"/>, the
/// circuit stays closed, reads keep working and the PostgreSQL fallback is not engaged.
/// </summary>
public sealed class OutOfMemoryTests(PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Writes_RedisAtMemoryLimit_ThrowTypedOutOfMemory_ReadsWork_CircuitAndFallbackUntouched()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartWithFallbackAsync(redis.ConnectionString, pg);
        var coordinator = host.Coordinator;
        await coordinator.SetAsync("before", "kept", cancellationToken: Token);
        var engaged = 0;
        host.Events.FallbackEngaged += (_, _) => Interlocked.Increment(ref engaged);
        var admin = await redis.GetAdminAsync();
        var server = admin.GetServer(redis.ConnectionString);
        await server.ConfigSetAsync("maxmemory-policy", "noeviction");
        await server.ConfigSetAsync("maxmemory", "1");

        for (var i = 0; i < 30; i++)
        {
            var refused = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => coordinator.SetAsync($"k{i}", i, cancellationToken: Token).AsTask());
            Assert.Equal(UnavailableReason.OutOfMemory, refused.Reason);
            Assert.StartsWith("OOM", Assert.IsType<RedisServerException>(refused.InnerException).Message, StringComparison.Ordinal);
        }

        var lockRefused = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => coordinator.Locks.TryAcquireAsync("l", cancellationToken: Token).AsTask());
        var cacheRefused = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => coordinator.Cache.SetAsync("c", 1, cancellationToken: Token).AsTask());
        var read = await coordinator.GetAsync<string>("before", Token);

        Assert.Equal(UnavailableReason.OutOfMemory, lockRefused.Reason);
        Assert.Equal(UnavailableReason.OutOfMemory, cacheRefused.Reason);
        Assert.Equal("kept", read.Value);
        Assert.False(read.FromFallback);
        Assert.Equal(CircuitState.Closed, host.Executor.CircuitState);
        Assert.Equal(0, Volatile.Read(ref engaged));

        await server.ConfigSetAsync("maxmemory", "0");
        await coordinator.SetAsync("after", "written", cancellationToken: Token);
        Assert.Equal("written", (await coordinator.GetAsync<string>("after", Token)).Value);
    }
}
