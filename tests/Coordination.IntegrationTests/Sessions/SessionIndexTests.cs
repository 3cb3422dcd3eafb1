using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>
/// The user's index is scored by absolute end, so reads leave it alone; entries of sessions that ended idle stay in it
/// until something drops them. These tests pin what that must not change.
/// </summary>
public sealed class SessionIndexTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Cap_DropsEntriesOfEndedSessionsBeforeEndingALiveOne()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString, settings: [new("Coordination:Sessions:MaxSessionsPerUser", "3")]);
        var sessions = host.Coordinator.Sessions;
        var soon = new SessionOptions { IdleTimeout = TimeSpan.FromMinutes(1), AbsoluteTimeout = TimeSpan.FromMinutes(1) };
        var a = await sessions.CreateAsync("dana", null, soon, Token);
        var b = await sessions.CreateAsync("dana", null, soon, Token);
        // Ends idle long before its absolute end, which is later than a's and b's.
        await sessions.CreateAsync("dana", null, new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(100), AbsoluteTimeout = TimeSpan.FromMinutes(30) }, Token);
        await Task.Delay(TimeSpan.FromMilliseconds(300), Token);

        var d = await sessions.CreateAsync("dana", null, soon, Token);

        Assert.Equal(new[] { a.Id, b.Id, d.Id }.Order(), (await sessions.ListForUserAsync("dana", Token)).Select(s => s.Id).Order());
    }

    [Fact]
    public async Task List_SoonestExpiryFirstAlthoughTheIndexOrdersByAbsoluteEnd()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var sessions = host.Coordinator.Sessions;
        // Absolute ends in one order, idle expiries in the other.
        var late = await sessions.CreateAsync("erin", null, new SessionOptions { IdleTimeout = TimeSpan.FromMinutes(1), AbsoluteTimeout = TimeSpan.FromHours(2) }, Token);
        var early = await sessions.CreateAsync("erin", null, new SessionOptions { IdleTimeout = TimeSpan.FromMinutes(10), AbsoluteTimeout = TimeSpan.FromHours(1) }, Token);

        var listed = await sessions.ListForUserAsync("erin", Token);

        Assert.Equal([late.Id, early.Id], listed.Select(s => s.Id));
        Assert.True(listed[0].ExpiresAt < listed[1].ExpiresAt);
    }

    [Fact]
    public async Task Rotate_KeepsTheEntryScoredByTheAbsoluteEnd_SoASessionKeptAliveByReadsStaysListed()
    {
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var sessions = host.Coordinator.Sessions;
        var options = new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(400), AbsoluteTimeout = TimeSpan.FromMinutes(10) };
        var rotated = await sessions.RotateAsync((await sessions.CreateAsync("rita", null, options, Token)).Id, Token);

        // Reads keep it alive well past the idle expiry it had when rotated.
        for (var i = 0; i < 8; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(150), Token);
            Assert.NotNull(await sessions.GetAsync(rotated!.Id, Token));
        }

        // A creation tidies the index: entries scored in the past are dropped.
        await sessions.CreateAsync("rita", null, null, Token);

        Assert.Contains(rotated!.Id, (await sessions.ListForUserAsync("rita", Token)).Select(s => s.Id));
    }
}
