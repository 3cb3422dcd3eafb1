using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination.Worker.Tests.Duties;

/// <summary>
/// The heartbeat duty of the real worker against real redis-server processes: what it writes, how long it lives, and
/// what it logs when Redis hangs or refuses the write.
/// </summary>
public sealed class HeartbeatServiceTests(SharedRedisFixture redis)
{
    private const int HeartbeatStarted = 1000;
    private const int HeartbeatUnavailable = 1001;
    private const int HeartbeatStillUnavailable = 1002;
    private const int HeartbeatRecovered = 1003;
    private const int HeartbeatFailed = 1004;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_RedisUp_WritesInstanceAndTimeLivingThreeIntervalsEveryInterval()
    {
        await using var app = new WorkerApp(redis.Server.ConnectionString, [new("Worker:HeartbeatInterval", "00:00:02")]);
        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        var before = DateTimeOffset.UtcNow;
        await app.StartAsync();

        await Heartbeats.WaitForFirstAsync(db, app.HeartbeatKey);
        var first = await Heartbeats.ReadAsync(db, app.HeartbeatKey);
        var firstTimeToLive = await db.KeyTimeToLiveAsync(app.HeartbeatKey);
        Assert.NotNull(first);
        Assert.Equal(app.InstanceName, first.Machine);
        Assert.InRange(first.At, before.AddSeconds(-1), DateTimeOffset.UtcNow.AddSeconds(1));
        Assert.NotNull(firstTimeToLive);
        Assert.InRange(firstTimeToLive.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6));

        // The next beat, one interval later, rewrites the time and renews the expiry.
        await ProcessUtil.WaitUntilAsync(
            async () => (await Heartbeats.ReadAsync(db, app.HeartbeatKey))?.At > first.At, TimeSpan.FromSeconds(10), "the second heartbeat", Token);
        var second = await Heartbeats.ReadAsync(db, app.HeartbeatKey);
        var secondTimeToLive = await db.KeyTimeToLiveAsync(app.HeartbeatKey);
        Assert.NotNull(second);
        Assert.InRange(second.At - first.At, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5));
        Assert.NotNull(secondTimeToLive);
        Assert.InRange(secondTimeToLive.Value, TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(6));

        var started = Assert.Single(app.Events(HeartbeatStarted));
        Assert.Equal($"Writing the heartbeat of {app.InstanceName} every 00:00:02.", started.Message);
    }

    [Fact]
    public async Task ExecuteAsync_WorkerStopped_HeartbeatExpiresWithinThreeIntervals()
    {
        await using var app = new WorkerApp(redis.Server.ConnectionString);
        var db = (await redis.Server.GetAdminAsync()).GetDatabase();
        await app.StartAsync();
        await Heartbeats.WaitForFirstAsync(db, app.HeartbeatKey);

        await app.DisposeAsync();
        var last = await Heartbeats.ReadAsync(db, app.HeartbeatKey);
        Assert.NotNull(last);

        // No beat after the stop: the key keeps its last value until it expires, three one-second intervals at most.
        var stopped = DateTimeOffset.UtcNow;
        while (await Heartbeats.ReadAsync(db, app.HeartbeatKey) is { } current)
        {
            Assert.Equal(last, current);
            Assert.True(DateTimeOffset.UtcNow - stopped < TimeSpan.FromSeconds(5), "The heartbeat of a stopped worker did not expire within 5 s.");
            await Task.Delay(100, Token);
        }
    }

    [Fact]
    public async Task ExecuteAsync_RedisHangsThenResumes_WarnsOnceLogsLaterFailuresAtDebugAndRecovers()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var app = new WorkerApp(server.ConnectionString, [new("Coordination:Resilience:AttemptTimeout", "00:00:00.200")]);
        var db = (await server.GetAdminAsync()).GetDatabase();
        await app.StartAsync();
        await Heartbeats.WaitForFirstAsync(db, app.HeartbeatKey);

        await server.PauseAsync();
        var warning = await app.WaitForEventAsync(HeartbeatUnavailable, TimeSpan.FromSeconds(10), "the heartbeat's warning");
        await ProcessUtil.WaitUntilAsync(
            () => app.Events(HeartbeatStillUnavailable).Count >= 2, TimeSpan.FromSeconds(10), "two more failed beats", Token);

        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.IsType<CoordinationUnavailableException>(warning.Exception);
        Assert.StartsWith("The heartbeat could not be written: coordination is unavailable (", warning.Message, StringComparison.Ordinal);
        Assert.Single(app.Events(HeartbeatUnavailable));
        Assert.All(app.Events(HeartbeatStillUnavailable), r => Assert.Equal(LogLevel.Debug, r.Level));
        Assert.Empty(app.Events(HeartbeatRecovered));

        await server.ResumeAsync();
        var resumed = DateTimeOffset.UtcNow;
        var recovered = await app.WaitForEventAsync(HeartbeatRecovered, TimeSpan.FromSeconds(15), "the heartbeat to recover");
        Assert.Equal(LogLevel.Information, recovered.Level);
        await ProcessUtil.WaitUntilAsync(
            async () => (await Heartbeats.ReadAsync(db, app.HeartbeatKey))?.At >= resumed.AddSeconds(-1), TimeSpan.FromSeconds(10), "a heartbeat written after the resume", Token);
        Assert.Single(app.Events(HeartbeatUnavailable));
        Assert.Empty(app.Events(HeartbeatFailed));
    }

    [Fact]
    public async Task ExecuteAsync_RedisRefusesWrites_LogsErrorWithServerErrorAndRecoversWhenAccepted()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var app = new WorkerApp(server.ConnectionString);
        var admin = await server.GetAdminAsync();
        var db = admin.GetDatabase();
        var config = admin.GetServer(server.ConnectionString);
        await app.StartAsync();
        await Heartbeats.WaitForFirstAsync(db, app.HeartbeatKey);

        // Out of memory with no eviction: Redis answers, but refuses every write. Not an outage, so not "unavailable".
        await config.ConfigSetAsync("maxmemory-policy", "noeviction");
        await config.ConfigSetAsync("maxmemory", "1");
        var failed = await app.WaitForEventAsync(HeartbeatFailed, TimeSpan.FromSeconds(10), "the heartbeat's error");
        Assert.Equal(LogLevel.Error, failed.Level);
        var unavailable = Assert.IsType<CoordinationUnavailableException>(failed.Exception);
        Assert.Equal(UnavailableReason.OutOfMemory, unavailable.Reason);
        var error = Assert.IsType<RedisServerException>(unavailable.InnerException);
        Assert.StartsWith("OOM", error.Message, StringComparison.Ordinal);
        Assert.Empty(app.Events(HeartbeatUnavailable));

        await config.ConfigSetAsync("maxmemory", "0");
        var accepted = DateTimeOffset.UtcNow;
        await app.WaitForEventAsync(HeartbeatRecovered, TimeSpan.FromSeconds(10), "the heartbeat to recover");
        var written = await Heartbeats.ReadAsync(db, app.HeartbeatKey);
        Assert.NotNull(written);
        Assert.True(written.At >= accepted.AddSeconds(-1), $"the heartbeat at {written.At:O} was not written after the memory limit was lifted at {accepted:O}");
    }
}
