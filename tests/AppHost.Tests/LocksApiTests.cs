using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;

using static Coordination.AppHost.Tests.ApiTestSupport;

namespace Coordination.AppHost.Tests;

/// <summary>
/// The lock endpoints end to end, against each api replica directly: an HTTP lock is a lease in Redis, not state of
/// the replica that granted it, so mutual exclusion, fencing, deadlock detection and token checks hold across them.
/// </summary>
[Collection(SharedLocalModeApp.Name)]
public sealed class LocksApiTests(LocalModeAppFixture fixture)
{
    // Bounds each test as a whole, the shared AppHost's start included when this class runs first; the work of each
    // test has its own, shorter bound so its message wins.
    private const int TestTimeoutMs = 180_000;

    private const string ProblemTypes = "https://coordination.dev/errors/";


    [Fact(Timeout = TestTimeoutMs)]
    public async Task AcquireLock_SixteenClientsOnBothReplicas_ExcludeEachOtherWithIncreasingFencingTokens()
    {
        const int Clients = 16;
        const int Increments = 200;
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;
        var prefix = NewPrefix();
        var lockName = $"{prefix}-counter-lock";
        var counter = new Uri($"/v1/kv/{prefix}-counter", UriKind.Relative);
        using (var reset = await replicas[0].PutAsJsonAsync(counter, new { value = 0, ttlMs = 300_000 }, cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        }

        var remaining = Increments;
        var inside = 0;
        var overlaps = 0;
        var entries = 0L;
        var entered = new ConcurrentQueue<(long Entry, long FencingToken)>();

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(client => Task.Run(
            async () =>
            {
                for (var round = 0; Interlocked.Decrement(ref remaining) >= 0; round++)
                {
                    // Alternate replicas per client and per round; release through the replica that did not grant.
                    var granting = replicas[(client + round) % 2];
                    var other = replicas[(client + round + 1) % 2];
                    var lease = await AcquireWaitingAsync(granting, lockName, cancellationToken);

                    if (Interlocked.Increment(ref inside) != 1)
                    {
                        Interlocked.Increment(ref overlaps);
                    }

                    entered.Enqueue((Interlocked.Increment(ref entries), lease.FencingToken));
                    var value = await ReadCounterAsync(other, counter, cancellationToken);
                    using (var put = await granting.PutAsJsonAsync(counter, new { value = value + 1, ttlMs = 300_000 }, cancellationToken))
                    {
                        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
                    }

                    Interlocked.Decrement(ref inside);
                    using var release = await other.DeleteAsync(LockUri(lockName, lease.Token), cancellationToken);
                    Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
                }
            },
            cancellationToken)));

        Assert.Equal(0, overlaps);
        Assert.Equal(Increments, entries);
        Assert.Equal(Increments, await ReadCounterAsync(replicas[1], counter, cancellationToken));
        var fencingTokens = entered.OrderBy(e => e.Entry).Select(e => e.FencingToken).ToArray();
        for (var i = 1; i < fencingTokens.Length; i++)
        {
            Assert.True(
                fencingTokens[i] > fencingTokens[i - 1],
                $"Entry {i + 1} had fencing token {fencingTokens[i]}, entry {i} had {fencingTokens[i - 1]}.");
        }
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task AcquireLock_TwoOwnersWaitingCrossed_OneGets409DeadlockDetected()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;
        var prefix = NewPrefix();
        var (alice, bob) = ($"{prefix}-alice", $"{prefix}-bob");
        var (first, second) = ($"{prefix}-first", $"{prefix}-second");
        var aliceHolds = await AcquireAsync(replicas[0], first, alice, cancellationToken);
        var bobHolds = await AcquireAsync(replicas[1], second, bob, cancellationToken);

        // Each waits for the other's lock, through different replicas: whichever records its wait second closes the
        // cycle and is answered at once; the other keeps waiting.
        var aliceWaits = PostLockAsync(replicas[0], second, new { ttlMs = 30_000, waitMs = 15_000, owner = alice }, cancellationToken);
        var bobWaits = PostLockAsync(replicas[1], first, new { ttlMs = 30_000, waitMs = 15_000, owner = bob }, cancellationToken);
        var answeredFirst = await Task.WhenAny(aliceWaits, bobWaits);
        var aliceLost = answeredFirst == aliceWaits;

        using (var deadlock = await answeredFirst)
        {
            using var problem = await ReadJsonAsync(deadlock, cancellationToken);
            Assert.True(
                deadlock.StatusCode == HttpStatusCode.Conflict && TypeOf(problem) == ProblemTypes + "deadlock-detected",
                $"Expected 409 deadlock-detected, got {(int)deadlock.StatusCode}: {problem.RootElement.GetRawText()}");
            var cycle = problem.RootElement.GetProperty("cycle").EnumerateArray().ToArray();
            Assert.Equal(2, cycle.Length);
            Assert.Equal(aliceLost ? alice : bob, cycle[0].GetProperty("owner").GetString());
            Assert.Equal(aliceLost ? second : first, cycle[0].GetProperty("name").GetString());
            Assert.Equal(aliceLost ? bob : alice, cycle[1].GetProperty("owner").GetString());
        }

        // The loser gives its lock up, and the winner's wait ends with it.
        var (loserLock, loserHold) = aliceLost ? (first, aliceHolds) : (second, bobHolds);
        using (var release = await replicas[1].DeleteAsync(LockUri(loserLock, loserHold.Token), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        }

        using var granted = await (aliceLost ? bobWaits : aliceWaits);
        using var lease = await ReadJsonAsync(granted, cancellationToken);
        Assert.True(granted.StatusCode == HttpStatusCode.OK, $"The winner's wait ended with {(int)granted.StatusCode}: {lease.RootElement.GetRawText()}");

        var winnerHold = aliceLost ? bobHolds : aliceHolds;
        foreach (var (name, token) in new[] { (loserLock, lease.RootElement.GetProperty("token").GetString()!), (aliceLost ? second : first, winnerHold.Token) })
        {
            using var cleanup = await replicas[0].DeleteAsync(LockUri(name, token), cancellationToken);
            Assert.Equal(HttpStatusCode.NoContent, cleanup.StatusCode);
        }
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task ReleaseLock_WrongToken_Returns409LockNotHeldAndLockStaysHeld()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;
        var name = $"{NewPrefix()}-lock";
        var hold = await AcquireAsync(replicas[0], name, owner: null, cancellationToken);
        var wrongToken = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

        using (var release = await replicas[1].DeleteAsync(LockUri(name, wrongToken), cancellationToken))
        {
            await AssertProblemAsync(release, HttpStatusCode.Conflict, "lock-not-held", cancellationToken);
        }

        using (var extend = await replicas[1].PostAsJsonAsync(ExtendUri(name), new { token = wrongToken, ttlMs = 60_000 }, cancellationToken))
        {
            await AssertProblemAsync(extend, HttpStatusCode.Conflict, "lock-not-held", cancellationToken);
        }

        using (var info = await replicas[1].GetAsync(LockUri(name), cancellationToken))
        {
            using var body = await ReadJsonAsync(info, cancellationToken);
            Assert.Equal(HttpStatusCode.OK, info.StatusCode);
            Assert.True(body.RootElement.GetProperty("held").GetBoolean());
            Assert.Equal(hold.FencingToken, body.RootElement.GetProperty("fencingToken").GetInt64());
        }

        using (var release = await replicas[1].DeleteAsync(LockUri(name, hold.Token), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, release.StatusCode);
        }

        using (var again = await replicas[0].DeleteAsync(LockUri(name, hold.Token), cancellationToken))
        {
            await AssertProblemAsync(again, HttpStatusCode.Conflict, "lock-not-held", cancellationToken);
        }

        using var free = await replicas[0].GetAsync(LockUri(name), cancellationToken);
        Assert.Equal(HttpStatusCode.NotFound, free.StatusCode);
    }

    /// <summary>Acquires, waiting in Redis, and asks again while the answer is 409 lock-not-acquired (bounded by the token).</summary>
    private static async Task<Lease> AcquireWaitingAsync(HttpClient client, string name, CancellationToken cancellationToken)
    {
        while (true)
        {
            using var response = await PostLockAsync(client, name, new { ttlMs = 10_000, waitMs = 5_000 }, cancellationToken);
            using var body = await ReadJsonAsync(response, cancellationToken);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return Lease.From(body);
            }

            Assert.True(
                response.StatusCode == HttpStatusCode.Conflict && TypeOf(body) == ProblemTypes + "lock-not-acquired",
                $"Acquiring answered {(int)response.StatusCode}: {body.RootElement.GetRawText()}");
        }
    }

    private static async Task<Lease> AcquireAsync(HttpClient client, string name, string? owner, CancellationToken cancellationToken)
    {
        using var response = await PostLockAsync(client, name, new { ttlMs = 30_000, owner }, cancellationToken);
        using var body = await ReadJsonAsync(response, cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Acquiring '{name}' answered {(int)response.StatusCode}: {body.RootElement.GetRawText()}");
        return Lease.From(body);
    }

    private static Task<HttpResponseMessage> PostLockAsync(HttpClient client, string name, object body, CancellationToken cancellationToken) =>
        client.PostAsJsonAsync(LockUri(name), body, cancellationToken);

    private static async Task<long> ReadCounterAsync(HttpClient client, Uri counter, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(counter, cancellationToken);
        using var body = await ReadJsonAsync(response, cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"Reading the counter answered {(int)response.StatusCode}: {body.RootElement.GetRawText()}");
        return body.RootElement.GetProperty("value").GetInt64();
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string type, CancellationToken cancellationToken)
    {
        using var body = await ReadJsonAsync(response, cancellationToken);
        Assert.True(
            response.StatusCode == status && TypeOf(body) == ProblemTypes + type,
            $"Expected {(int)status} {type}, got {(int)response.StatusCode}: {body.RootElement.GetRawText()}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    // Names go in one path segment: percent-encoded.
    private static Uri LockUri(string name, string? token = null) =>
        new($"/v1/locks/{Uri.EscapeDataString(name)}{(token is null ? "" : "?token=" + Uri.EscapeDataString(token))}", UriKind.Relative);

    private static Uri ExtendUri(string name) => new($"/v1/locks/{Uri.EscapeDataString(name)}/extend", UriKind.Relative);


    private sealed record Lease(string Token, long FencingToken)
    {
        public static Lease From(JsonDocument body) =>
            new(body.RootElement.GetProperty("token").GetString()!, body.RootElement.GetProperty("fencingToken").GetInt64());
    }
}
