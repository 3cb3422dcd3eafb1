using System.Diagnostics;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using static Coordination.IntegrationTests.Sessions.SessionHost;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>The session manager on the shared redis-server: round trip, expiry, merges, versions, bad input, tenants.</summary>
public sealed class SessionManagerTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task CreateAsync_ThenGetAsync_ReturnsTheDataUserAndTimes()
    {
        await using var host = await SessionHost.StartAsync(redis);
        var data = new Dictionary<string, JsonElement> { ["cart"] = Json(new[] { 1, 2 }), ["name"] = Json("Ada"), ["nothing"] = Json<object?>(null) };

        var created = await host.Sessions.CreateAsync("user-1", data, new SessionOptions { IdleTimeout = TimeSpan.FromMinutes(5), AbsoluteTimeout = TimeSpan.FromHours(1) }, Token);
        var read = await host.Sessions.GetAsync(created.Id, Token);

        Assert.NotNull(read);
        Assert.Equal((created.Id, "user-1", 1L), (read.Id, read.UserId, read.Version));
        Assert.Equal("[1,2]", read.Data["cart"].GetRawText());
        Assert.Equal("Ada", read.Data["name"].GetString());
        Assert.Equal(JsonValueKind.Null, read.Data["nothing"].ValueKind);
        Assert.Equal(created.CreatedAt, read.CreatedAt);
        Assert.Equal(read.LastAccessAt + TimeSpan.FromMinutes(5), read.ExpiresAt);
        Assert.Equal(created.CreatedAt + TimeSpan.FromMinutes(5), created.ExpiresAt);
        Assert.Matches("^[A-Za-z0-9_-]{22}\\.[0-9a-z]{1,4}$", created.Id);
        var ttl = await (await host.AdminAsync()).KeyTimeToLiveAsync(host.SessionKey(created.Id));
        Assert.InRange(ttl!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
    }

    [Fact]
    public async Task GetAsync_SlidesTheIdleExpiry_UntilTheAbsoluteExpiryEndsTheSession()
    {
        await using var host = await SessionHost.StartAsync(redis);
        // An idle timeout well above the 100 ms between reads, so a loaded machine's stalls rarely reach it.
        var idle = TimeSpan.FromMilliseconds(1000);
        var absolute = TimeSpan.FromMilliseconds(3000);
        var options = new SessionOptions { IdleTimeout = idle, AbsoluteTimeout = absolute };
        var kept = await host.Sessions.CreateAsync("user-1", options: options, cancellationToken: Token);
        var untouched = await host.Sessions.CreateAsync("user-1", options: options, cancellationToken: Token);
        var clock = Stopwatch.StartNew();

        var reads = new List<(TimeSpan At, TimeSpan SincePrevious, Session? Session)>();
        var previous = TimeSpan.Zero;
        while (clock.Elapsed < absolute + TimeSpan.FromMilliseconds(400))
        {
            var session = await host.Sessions.GetAsync(kept.Id, Token);
            var at = clock.Elapsed;
            reads.Add((at, at - previous, session));
            previous = at;
            await Task.Delay(100, Token);
        }

        // Read continually, the session outlived its idle timeout several times, and ended at its absolute expiry.
        // A gap between reads near an idle timeout (a stalled machine) may rightly end it: only the reads before the
        // first such gap are judged, and the run must have had enough of them.
        var stall = reads.FindIndex(r => r.SincePrevious >= idle - TimeSpan.FromMilliseconds(250));
        var beforeStall = stall < 0 ? reads : reads[..stall];
        var aliveWhileRead = beforeStall.Where(r => r.At < absolute - TimeSpan.FromMilliseconds(200)).ToList();
        Assert.True(aliveWhileRead.Count >= 5 && aliveWhileRead[^1].At > idle * 2, $"the machine stalled: only {aliveWhileRead.Count} reads close enough to each other, the last at {aliveWhileRead.LastOrDefault().At}");
        Assert.All(aliveWhileRead, r => Assert.NotNull(r.Session));
        Assert.All(reads.Where(r => r.Session is not null), r => Assert.Equal(Min(r.Session!.LastAccessAt + idle, kept.CreatedAt + absolute), r.Session!.ExpiresAt));
        Assert.All(reads.Where(r => r.At > absolute + TimeSpan.FromMilliseconds(100)), r => Assert.Null(r.Session));
        Assert.Null(await host.Sessions.GetAsync(untouched.Id, Token));
        Assert.Empty(await host.KeysAsync());
    }

    [Fact]
    public async Task UpdateAsync_HundredConcurrentPatchesOfDifferentFields_AllSurviveAndVersionIs101()
    {
        await using var host = await SessionHost.StartAsync(redis);
        var session = await host.Sessions.CreateAsync("user-1", cancellationToken: Token);

        await Parallel.ForEachAsync(Enumerable.Range(0, 100), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = Token }, async (i, ct) =>
            Assert.NotNull(await host.Sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { [$"f{i}"] = Json(i) }, cancellationToken: ct)));
        var read = await host.Sessions.GetAsync(session.Id, Token);

        Assert.NotNull(read);
        Assert.Equal(101, read.Version);
        Assert.Equal(100, read.Data.Count);
        Assert.All(Enumerable.Range(0, 100), i => Assert.Equal(i, read.Data[$"f{i}"].GetInt32()));
    }

    [Fact]
    public async Task UpdateAsync_StaleExpectedVersion_IsRefusedAndChangesNothing_TheRightOneApplies()
    {
        await using var host = await SessionHost.StartAsync(redis);
        var session = await host.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["a"] = Json(1), ["b"] = Json(2) }, cancellationToken: Token);
        var second = await host.Sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["a"] = Json(10) }, expectedVersion: 1, Token);

        var conflict = await Assert.ThrowsAsync<SessionVersionConflictException>(async () =>
            await host.Sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["a"] = Json(99), ["b"] = null, ["c"] = Json(3) }, expectedVersion: 1, Token));
        var afterConflict = await host.Sessions.GetAsync(session.Id, Token);
        var third = await host.Sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["b"] = null, ["c"] = Json(3) }, expectedVersion: 2, Token);

        Assert.Equal(2, second!.Version);
        Assert.Equal((1L, 2L), (conflict.ExpectedVersion, conflict.ActualVersion));
        Assert.Equal(2, afterConflict!.Version);
        Assert.Equal(["a", "b"], afterConflict.Data.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(10, afterConflict.Data["a"].GetInt32());
        Assert.Equal(3, third!.Version);
        Assert.Equal(["a", "c"], third.Data.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Calls_OnAbsentMalformedOrForeignIds_ReadAsAbsentAndReachNoKeyOutsideTheTenant()
    {
        await using var host = await SessionHost.StartAsync(redis);
        var tenantA = host.ForTenant("tenant-a");
        var tenantB = host.ForTenant("tenant-b");
        var ofA = await tenantA.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["a"] = Json(1) }, cancellationToken: Token);
        var random = ofA.Id[..22];
        var tag = ofA.Id[23..];
        string[] malformed =
        [
            "", "x", random, random + ".", random + "." + tag + "0", random + ".ZZZZ", random[..21] + "." + tag, random[..21] + "*." + tag,
            "../../" + random[6..] + "." + tag, random + ":" + tag, random + "." + tag + "}", "{" + random[1..] + "." + tag, random + "." + WrongTag(tag),
        ];

        foreach (var id in malformed.Append(ofA.Id))
        {
            var manager = id == ofA.Id ? tenantB : tenantA;
            Assert.Null(await manager.GetAsync(id, Token));
            Assert.Null(await manager.UpdateAsync(id, new Dictionary<string, JsonElement?> { ["a"] = Json(2) }, cancellationToken: Token));
            Assert.Null(await manager.RotateAsync(id, Token));
            Assert.False(await manager.DeleteAsync(id, Token));
        }

        Assert.Empty(await tenantB.ListForUserAsync("user-1", Token));
        Assert.Equal(0, await tenantB.RevokeAllForUserAsync("user-1", Token));
        var still = await tenantA.GetAsync(ofA.Id, Token);
        Assert.Equal((1L, 1), (still!.Version, still.Data["a"].GetInt32()));
        Assert.Equal(2, (await host.KeysAsync()).Count);
        Assert.Empty(await host.KeysAsync("tenant-b:*"));
    }

    [Fact]
    public async Task BadInput_IsRefusedWithArgumentException_AndChangesNothing()
    {
        await using var host = await SessionHost.StartAsync(redis, ("MaxDataBytes", "100"), ("MaxFields", "3"));
        var sessions = host.Sessions;
        var session = await sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["a"] = Json(new string('x', 40)) }, cancellationToken: Token);

        // User ids: the name rule (non-empty, no control characters, 512 UTF-8 bytes at most).
        foreach (var userId in new[] { "", "a\nb", new string('u', 513) })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await sessions.CreateAsync(userId, cancellationToken: Token));
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await sessions.ListForUserAsync(userId, Token));
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await sessions.RevokeAllForUserAsync(userId, Token));
        }

        // Field names, sizes and counts, at creation and in a patch (alone, or with the data already held).
        foreach (var name in new[] { "", "a\u0001", new string('n', 257) })
        {
            await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { [name] = Json(1) }, cancellationToken: Token));
            await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { [name] = Json(1) }, cancellationToken: Token));
        }

        await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["big"] = Json(new string('x', 100)) }, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["1"] = Json(1), ["2"] = Json(2), ["3"] = Json(3), ["4"] = Json(4) }, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["undefined"] = default }, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["b"] = Json(new string('y', 60)) }, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["b"] = Json(1), ["c"] = Json(2), ["d"] = Json(3) }, cancellationToken: Token));
        await Assert.ThrowsAsync<ArgumentException>(async () => await sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["b"] = Json(1), ["c"] = Json(2), ["d"] = Json(3), ["e"] = Json(4) }, cancellationToken: Token));

        // Timeouts: 1 ms to 30 days each, idle not above absolute.
        foreach (var options in new[]
        {
            new SessionOptions { IdleTimeout = TimeSpan.Zero },
            new SessionOptions { AbsoluteTimeout = TimeSpan.FromDays(31) },
            new SessionOptions { IdleTimeout = TimeSpan.FromHours(2), AbsoluteTimeout = TimeSpan.FromHours(1) },
        })
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(async () => await sessions.CreateAsync("user-1", options: options, cancellationToken: Token));
        }

        // A removal makes room: the same patch that was too large applies once 'a' goes.
        var applied = await sessions.UpdateAsync(session.Id, new Dictionary<string, JsonElement?> { ["a"] = null, ["b"] = Json(new string('y', 60)) }, cancellationToken: Token);

        Assert.Equal(2, applied!.Version);
        Assert.Equal(["b"], applied.Data.Keys);
        Assert.Single(await sessions.ListForUserAsync("user-1", Token));
        Assert.Equal(2, (await host.KeysAsync()).Count);
    }

    [Fact]
    public async Task DeleteAsync_EndsTheSessionAndItsIndexEntry()
    {
        await using var host = await SessionHost.StartAsync(redis);
        var first = await host.Sessions.CreateAsync("user-1", cancellationToken: Token);
        var second = await host.Sessions.CreateAsync("user-1", cancellationToken: Token);

        Assert.True(await host.Sessions.DeleteAsync(first.Id, Token));
        Assert.False(await host.Sessions.DeleteAsync(first.Id, Token));
        Assert.Null(await host.Sessions.GetAsync(first.Id, Token));
        Assert.Null(await host.Sessions.UpdateAsync(first.Id, new Dictionary<string, JsonElement?> { ["a"] = Json(1) }, cancellationToken: Token));
        Assert.Equal([second.Id], (await host.Sessions.ListForUserAsync("user-1", Token)).Select(s => s.Id));
        Assert.True(await host.Sessions.DeleteAsync(second.Id, Token));
        Assert.Empty(await host.KeysAsync());
    }

    [Fact]
    public async Task Calls_AreCountedByTheirInstruments()
    {
        await using var host = await SessionHost.StartAsync(redis, ("MaxSessionsPerUser", "2"));
        using var created = new HostCounter(host.Host, "coordination.sessions.created");
        using var revoked = new HostCounter(host.Host, "coordination.sessions.revoked");
        using var rotations = new HostCounter(host.Host, "coordination.sessions.rotations");
        using var deleted = new HostCounter(host.Host, "coordination.sessions.deleted");
        using var conflicts = new HostCounter(host.Host, "coordination.sessions.conflicts");

        // Its absolute end (the index's score) comes first, so the cap ends it.
        await host.Sessions.CreateAsync("user-1", options: new SessionOptions { IdleTimeout = TimeSpan.FromMinutes(1), AbsoluteTimeout = TimeSpan.FromHours(1) }, cancellationToken: Token);
        var second = await host.Sessions.CreateAsync("user-1", cancellationToken: Token);
        var third = await host.Sessions.CreateAsync("user-1", cancellationToken: Token);
        var rotated = await host.Sessions.RotateAsync(third.Id, Token);
        await host.Sessions.DeleteAsync(second.Id, Token);
        await host.Sessions.DeleteAsync(second.Id, Token);
        await Assert.ThrowsAsync<SessionVersionConflictException>(async () => await host.Sessions.UpdateAsync(rotated!.Id, new Dictionary<string, JsonElement?>(), expectedVersion: 5, Token));
        await host.Sessions.RevokeAllForUserAsync("user-1", Token);

        // The first session ended by the cap and the rotated one by the revocation; the second delete found nothing.
        Assert.Equal((3L, 2L, 1L, 1L, 1L), (created.Total, revoked.Total, rotations.Total, deleted.Total, conflicts.Total));
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    // A tag of the right alphabet and length that is not the canonical tag of its slot.
    private static string WrongTag(string tag)
    {
        for (var c = 'a'; c <= 'z'; c++)
        {
            var candidate = tag + c;
            if (candidate.Length <= 4 && !SessionId.TryParse(new string('A', 22) + "." + candidate, out _, out _))
            {
                return candidate;
            }
        }

        return "zzzz";
    }
}
