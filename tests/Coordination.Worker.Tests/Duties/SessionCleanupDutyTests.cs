using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Worker.Tests.Duties;

/// <summary>The session cleanup duty of the real worker against a real redis-server.</summary>
public sealed class SessionCleanupDutyTests(SharedRedisFixture redis)
{
    private const int SessionCleanupDone = 1201;
    private const int DutyScheduled = 1860;
    private const int DutyFailed = 1862;
    private const int DutyUnavailable = 1865;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryInterval_EndedSessionsLeaveTheirUsersIndexes()
    {
        await using var app = new WorkerApp(redis.Server.ConnectionString, [new("Worker:SessionCleanupInterval", "00:00:00.300")]);
        await app.StartAsync();
        var sessions = app.Services.GetRequiredService<IRedisCoordinator>().Sessions;
        var live = await sessions.CreateAsync("alice", null, null, Token);
        await sessions.CreateAsync("alice", null, new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(100) }, Token);
        var admin = await redis.Server.GetAdminAsync();
        var db = admin.GetDatabase();
        var index = await admin.GetServer(admin.GetEndPoints()[0]).KeysAsync(pattern: $"{app.KeyPrefix}:default:session-user:*:alice").SingleAsync(Token);

        await ProcessUtil.WaitUntilAsync(async () => await db.SortedSetLengthAsync(index) == 1, TimeSpan.FromSeconds(10), "the ended session to leave the index", Token);

        Assert.Equal(live.Id, (string?)(await db.SortedSetRangeByRankAsync(index)).Single());
        Assert.Single(app.DutyEvents(DutyScheduled), e => e.Message.Contains("session-cleanup", StringComparison.Ordinal));
        var done = await app.WaitForEventAsync(SessionCleanupDone, TimeSpan.FromSeconds(5), "a cleanup round");
        Assert.Contains("entries of ended sessions removed", done.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedisDown_RoundsAreSkippedAndLogged_ThenCleanupResumes()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var app = new WorkerApp(server.ConnectionString, [new("Worker:SessionCleanupInterval", "00:00:00.200")]);
        await app.StartAsync();
        await app.WaitForEventAsync(SessionCleanupDone, TimeSpan.FromSeconds(10), "a first cleanup round");

        await server.KillAsync();
        var skipped = await app.WaitForDutyEventAsync(DutyUnavailable, TimeSpan.FromSeconds(15), "a round skipped while Redis is down");
        Assert.Contains("session-cleanup", skipped.Message, StringComparison.Ordinal);

        await server.RestartAsync(Token);
        var before = app.Events(SessionCleanupDone).Count;
        await ProcessUtil.WaitUntilAsync(() => Task.FromResult(app.Events(SessionCleanupDone).Count > before), TimeSpan.FromSeconds(20), "a round after Redis is back", Token);
    }

    [Fact]
    public async Task UnexpectedFailure_IsLoggedAndTheDutyKeepsRunning()
    {
        var maintenance = new FailingMaintenance();
        await using var app = new WorkerApp(
            redis.Server.ConnectionString,
            [new("Coordination:Worker:Duties:session-cleanup:Interval", "00:00:00.100")],
            services => services.AddSingleton<ISessionMaintenance>(maintenance));
        await app.StartAsync();

        var failed = await app.WaitForDutyEventAsync(DutyFailed, TimeSpan.FromSeconds(10), "the failure to be logged");
        Assert.IsType<InvalidOperationException>(failed.Exception);
        Assert.Contains("session-cleanup failed (InvalidOperationException)", failed.Message, StringComparison.Ordinal);
        await ProcessUtil.WaitUntilAsync(() => Task.FromResult(maintenance.Calls >= 3), TimeSpan.FromSeconds(10), "more rounds after the failure", Token);
    }

    /// <summary>A cleanup that always fails as no Redis answer would make it: a bug's exception.</summary>
    private sealed class FailingMaintenance : ISessionMaintenance
    {
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public string SessionExpiredChannel => "unused";

        public Task<SessionCleanupResult?> TryCleanupAsync(CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _calls);
            throw new InvalidOperationException("A bug.");
        }
    }
}
