using Coordination.IntegrationTests.Infrastructure;
using Coordination.Worker.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Worker.Tests.Duties;

/// <summary>The session cleanup duty of the real worker against a real redis-server.</summary>
public sealed class SessionCleanupServiceTests(SharedRedisFixture redis)
{
    private const int SessionCleanupStarted = 1200;
    private const int SessionCleanupDone = 1201;

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
        Assert.Single(app.Events(SessionCleanupStarted));
        var done = await app.WaitForEventAsync(SessionCleanupDone, TimeSpan.FromSeconds(5), "a cleanup round");
        Assert.Contains("entries of ended sessions removed", done.Message, StringComparison.Ordinal);
    }
}
