using System.Collections.Concurrent;
using System.Text.Json;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using static Coordination.IntegrationTests.Sessions.SessionHost;

namespace Coordination.IntegrationTests.Sessions;

/// <summary>A user's sessions together: rotation under readers, list and revoke at scale, the cap, hostile creation.</summary>
public sealed class SessionUserTests(SharedRedisFixture redis)
{
    // One script run, so it sees the state between two session scripts, never inside one: whether the old session's key
    // exists, how many session keys of the tenant exist at all, and how many entries the user's index holds.
    private const string Snapshot = """
        local live = 0
        for _, key in ipairs(redis.call('KEYS', ARGV[1])) do
            live = live + 1
        end
        return { redis.call('EXISTS', KEYS[1]), live, redis.call('ZCARD', KEYS[2]) }
        """;

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task RotateAsync_UnderConcurrentReads_NeverBothIdsAliveNorNeither()
    {
        await using var host = await SessionHost.StartAsync(redis);
        var admin = await host.AdminAsync();
        var old = await host.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["cart"] = Json(42) }, cancellationToken: Token);
        var before = await host.Sessions.UpdateAsync(old.Id, new Dictionary<string, JsonElement?> { ["step"] = Json(2) }, cancellationToken: Token);
        string? rotatedId = null;
        using var stop = new CancellationTokenSource();
        var violations = new ConcurrentQueue<string>();
        var snapshots = 0;
        var reads = 0;

        // Readers of the API: each reads the old id, then the new one once it is known. Per reader, the old id never
        // comes back once it read absent, nor once the new id was read alive (reads are ordered within a reader).
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            var oldSeenDead = false;
            var newSeenAlive = false;
            while (!stop.IsCancellationRequested)
            {
                var newId = Volatile.Read(ref rotatedId);
                var oldRead = await host.Sessions.GetAsync(old.Id, Token);
                if (oldRead is not null && (oldSeenDead || newSeenAlive))
                {
                    violations.Enqueue($"reader {r}: the old id alive again after it was seen dead or the new one alive");
                }

                oldSeenDead |= oldRead is null;
                if (newId is not null)
                {
                    var newRead = await host.Sessions.GetAsync(newId, Token);
                    if (newRead is null)
                    {
                        violations.Enqueue($"reader {r}: the new id absent after the rotation returned");
                    }

                    newSeenAlive |= newRead is not null;
                    if (oldRead is not null)
                    {
                        violations.Enqueue($"reader {r}: the old id alive after the rotation returned");
                    }
                }

                Interlocked.Increment(ref reads);
            }
        }, Token)).ToArray();

        // The atomic view: exactly one session key of the tenant and one index entry, at every instant a script sees.
        var watcher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                // Read before the snapshot: a rotation that returned before it must be visible in it.
                var rotationReturned = Volatile.Read(ref rotatedId) is not null;
                var state = (RedisResult[])(await admin.ScriptEvaluateAsync(Snapshot, [host.SessionKey(old.Id), host.IndexKey("user-1")], [host.Host.KeyPrefix + ":default:session:*"]))!;
                var (oldAlive, live, indexed) = ((long)state[0], (long)state[1], (long)state[2]);
                if (live != 1 || indexed != 1)
                {
                    violations.Enqueue($"snapshot: {live} session keys and {indexed} index entries (old id alive: {oldAlive})");
                }

                if (oldAlive == 1 && rotationReturned)
                {
                    violations.Enqueue("snapshot: the old key alive after the rotation returned");
                }

                Interlocked.Increment(ref snapshots);
            }
        }, Token);

        await Task.Delay(200, Token);
        var rotated = await host.Sessions.RotateAsync(old.Id, Token);
        Volatile.Write(ref rotatedId, rotated!.Id);
        await Task.Delay(300, Token);
        await stop.CancelAsync();
        await Task.WhenAll([.. readers, watcher]);
        Output.WriteLine($"{reads} reads, {snapshots} snapshots");

        Assert.Empty(violations);
        Assert.True(snapshots > 10 && reads > 100, $"too little traffic around the rotation: {reads} reads, {snapshots} snapshots");
        Assert.NotEqual(old.Id, rotated.Id);
        Assert.Equal(old.Id[22..], rotated.Id[22..]);
        Assert.Equal((before!.Version, before.CreatedAt, "user-1"), (rotated.Version, rotated.CreatedAt, rotated.UserId));
        Assert.Equal([("cart", "42"), ("step", "2")], rotated.Data.Select(d => (d.Key, d.Value.GetRawText())).Order());
        Assert.Null(await host.Sessions.RotateAsync(old.Id, Token));
        Assert.Equal([rotated.Id], (await host.Sessions.ListForUserAsync("user-1", Token)).Select(s => s.Id));
    }

    [Fact]
    public async Task ListAndRevokeAll_ForAUserWithAThousandSessions_SeeAndEndThemAll()
    {
        await using var host = await SessionHost.StartAsync(redis, ("MaxSessionsPerUser", "2000"));
        var created = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, 1000), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Token }, async (i, ct) =>
            created.Add((await host.Sessions.CreateAsync("user-1", new Dictionary<string, JsonElement> { ["n"] = Json(i) }, cancellationToken: ct)).Id));
        var other = await host.Sessions.CreateAsync("user-2", cancellationToken: Token);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var listed = await host.Sessions.ListForUserAsync("user-1", Token);
        var listing = clock.Elapsed;
        clock.Restart();
        var revoked = await host.Sessions.RevokeAllForUserAsync("user-1", Token);
        Output.WriteLine($"list of 1,000 sessions: {listing.TotalMilliseconds:0.0} ms; revoke of 1,000: {clock.Elapsed.TotalMilliseconds:0.0} ms");

        Assert.Equal(created.Order(StringComparer.Ordinal), listed.Select(s => s.Id).Order(StringComparer.Ordinal));
        Assert.Equal(Enumerable.Range(0, 1000), listed.Select(s => s.Data["n"].GetInt32()).Order());
        Assert.Equal(listed.OrderBy(s => s.ExpiresAt).Select(s => s.Id), listed.Select(s => s.Id));
        Assert.All(listed, s => Assert.Equal("user-1", s.UserId));
        Assert.Equal(1000, revoked);
        Assert.Empty(await host.Sessions.ListForUserAsync("user-1", Token));
        Assert.Equal(0, await host.Sessions.RevokeAllForUserAsync("user-1", Token));
        Assert.Null(await host.Sessions.GetAsync(created.First(), Token));
        Assert.NotNull(await host.Sessions.GetAsync(other.Id, Token));
        Assert.Equal(2, (await host.KeysAsync()).Count);
    }

    [Fact]
    public async Task CreateAsync_OverTheCap_EndsTheSoonestExpiringSessions_CountStaysAtTheCap()
    {
        await using var host = await SessionHost.StartAsync(redis, ("MaxSessionsPerUser", "5"));
        var ids = new List<string>();
        // The cap ends the sessions whose absolute end comes soonest (the index's score): each ends a second later than
        // the one before, so that no two end in the same millisecond.
        for (var i = 0; i < 8; i++)
        {
            var options = new SessionOptions { IdleTimeout = TimeSpan.FromMinutes(10), AbsoluteTimeout = TimeSpan.FromDays(1) + TimeSpan.FromSeconds(i) };
            ids.Add((await host.Sessions.CreateAsync("user-1", options: options, cancellationToken: Token)).Id);
        }

        // A session created with a short idle timeout expires soonest of all, yet its creation never ends itself.
        var shortLived = await host.Sessions.CreateAsync("user-1", options: new SessionOptions { IdleTimeout = TimeSpan.FromSeconds(30) }, cancellationToken: Token);
        var listed = await host.Sessions.ListForUserAsync("user-1", Token);

        Assert.Equal([shortLived.Id, .. ids[4..]], listed.Select(s => s.Id));
        Assert.All(ids[..4], id => Assert.Null(host.Sessions.GetAsync(id, Token).AsTask().Result));
        Assert.Equal(5, await (await host.AdminAsync()).SortedSetLengthAsync(host.IndexKey("user-1")));
        Assert.Equal(6, (await host.KeysAsync()).Count);
    }

    [Fact]
    public async Task HostileCreation_OneUserInALoop_NeverGrowsTheIndexPastTheCap_AndIndexesExpireWithTheirSessions()
    {
        const int Cap = 10;
        await using var host = await SessionHost.StartAsync(redis, ("MaxSessionsPerUser", Cap.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var admin = await host.AdminAsync();
        var shortLived = new SessionOptions { IdleTimeout = TimeSpan.FromMilliseconds(300), AbsoluteTimeout = TimeSpan.FromMilliseconds(600) };
        var largest = 0L;

        // Long-lived sessions fill the cap, then short-lived ones expire between creations: the index holds at most
        // the cap plus the entries that expired since the last script touched it.
        for (var i = 0; i < 500; i++)
        {
            await host.Sessions.CreateAsync("victim", options: i % 2 == 0 ? null : shortLived, cancellationToken: Token);
            largest = Math.Max(largest, await admin.SortedSetLengthAsync(host.IndexKey("victim")));
        }

        // Many users, each with sessions that end soon: no key of any of them is left once they have expired.
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Token }, async (u, ct) =>
        {
            for (var s = 0; s < 3; s++)
            {
                await host.Sessions.CreateAsync($"user-{u}", options: shortLived, cancellationToken: ct);
            }
        });
        var indexesAfterCreation = (await host.KeysAsync("default:session-user:*")).Count;
        var sessionKeys = (await host.KeysAsync("default:session:*")).Count;
        await Task.Delay(800, Token);
        var left = await host.KeysAsync("default:session*");
        var victim = await host.Sessions.ListForUserAsync("victim", Token);

        Output.WriteLine($"largest index {largest}; {indexesAfterCreation} indexes and {sessionKeys} session keys after creation; {left.Count} keys left after expiry");
        Assert.Equal(Cap, largest);
        Assert.True(indexesAfterCreation >= 190, $"{indexesAfterCreation} indexes right after creation");
        Assert.Equal([host.IndexKey("victim")], left.Where(k => k.Contains(":session-user:", StringComparison.Ordinal)));
        // The last creation (short-lived) ended one long-lived session for its room, and has expired since.
        Assert.Equal(Cap - 1, victim.Count);
        Assert.Equal(Cap - 1, left.Count - 1);
        Assert.Equal(victim.Count, await admin.SortedSetLengthAsync(host.IndexKey("victim")));
    }
}
