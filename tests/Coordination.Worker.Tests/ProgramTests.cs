using System.Net;
using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;

namespace Coordination.Worker.Tests;

/// <summary>What the worker's <c>Program.cs</c> wires up, seen from outside: its health endpoints and the cache warming lock.</summary>
public sealed class ProgramTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_RedisUpThenCrashed_HealthyThenUnhealthyWhileAliveStaysUp()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var app = new WorkerApp(server.ConnectionString, [new("Coordination:Health:ProbeTimeout", "00:00:00.250")]);
        await app.StartAsync();
        using var client = app.CreateClient();

        using (var health = await client.GetAsync(new Uri("/health", UriKind.Relative), Token))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("Healthy", await health.Content.ReadAsStringAsync(Token));
        }

        await server.KillAsync();
        string? answer = null;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                using var health = await client.GetAsync(new Uri("/health", UriKind.Relative), Token);
                answer = $"{(int)health.StatusCode} {await health.Content.ReadAsStringAsync(Token)}";
                return health.StatusCode == HttpStatusCode.ServiceUnavailable;
            },
            TimeSpan.FromSeconds(10),
            "/health to report Redis down",
            Token,
            TimeSpan.FromMilliseconds(100));
        Assert.Equal("503 Unhealthy", answer);

        using var alive = await client.GetAsync(new Uri("/alive", UriKind.Relative), Token);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("Healthy", await alive.Content.ReadAsStringAsync(Token));
    }

    [Fact]
    public async Task CacheWarming_WorkerAlone_TakesTheWarmingLockInThePlatformNamespace()
    {
        await using var app = new WorkerApp(redis.Server.ConnectionString);
        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        var lockKey = $"{app.KeyPrefix}:default:platform-lock:{{cache-warming}}";
        await app.StartAsync();

        await ProcessUtil.WaitUntilAsync(() => db.KeyExistsAsync(lockKey), TimeSpan.FromSeconds(10), "the cache warming lock", Token);

        // A tenant's lock of the same name is another key: no caller can hold up warming.
        Assert.False(await db.KeyExistsAsync($"{app.KeyPrefix}:default:lock:{{cache-warming}}"));

        // Released when the worker stops, so another node can take over at once.
        await app.DisposeAsync();
        Assert.False(await db.KeyExistsAsync(lockKey));
    }
}
