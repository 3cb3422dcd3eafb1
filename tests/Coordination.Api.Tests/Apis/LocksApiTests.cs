using System.Net;
using System.Text.Json;
using Coordination.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Api.Tests.Apis;

public sealed class LocksApiTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task AcquireLock_Free_GrantsTokenAndFencingToken_ThenInfoExtendRelease()
    {
        using var client = Client();
        var name = NewName("lock");

        var lease = await AcquireAsync(client, name, """{"ttlMs":30000,"owner":"worker-1"}""");
        Assert.Equal(name, lease.GetProperty("name").GetString());
        var token = lease.GetProperty("token").GetString()!;
        var fencingToken = lease.GetProperty("fencingToken").GetInt64();
        Assert.True(lease.GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddSeconds(-5));

        var info = await GetOkAsync(client, Lock(name));
        Assert.True(info.GetProperty("held").GetBoolean());
        Assert.Equal("worker-1", info.GetProperty("owner").GetString());
        Assert.Equal(fencingToken, info.GetProperty("fencingToken").GetInt64());
        Assert.InRange(info.GetProperty("ttlMs").GetInt64(), 1, 30_000);
        Assert.False(info.TryGetProperty("token", out _));

        using (var extend = await SendAsync(client, HttpMethod.Post, Extend(name), $$"""{"token":"{{token}}","ttlMs":120000}"""))
        {
            await AssertStatusAsync(extend, HttpStatusCode.OK);
            Assert.True((await ReadJsonAsync(extend)).GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddSeconds(60));
        }

        using (var release = await client.DeleteAsync(Lock(name, token), Cancellation))
        {
            await AssertStatusAsync(release, HttpStatusCode.NoContent);
        }

        using var free = await client.GetAsync(Lock(name), Cancellation);
        await AssertProblemAsync(free, HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task AcquireLock_Held_Answers409LockNotAcquiredWithRetryAfter()
    {
        using var client = Client();
        var name = NewName("lock");
        await AcquireAsync(client, name, """{"ttlMs":30000}""");

        using var second = await SendAsync(client, HttpMethod.Post, Lock(name), """{"ttlMs":30000,"waitMs":50}""");
        var problem = await AssertProblemAsync(second, HttpStatusCode.Conflict, "lock-not-acquired");
        Assert.InRange(problem.GetProperty("retryAfterMs").GetInt64(), 1, 30_000);
        Assert.InRange(int.Parse(second.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture), 1, 30);
    }

    [Fact]
    public async Task AcquireLock_SameOwnerWithItsToken_ReentersTheHold()
    {
        using var client = Client();
        var name = NewName("lock");
        var first = await AcquireAsync(client, name, """{"ttlMs":30000,"owner":"same"}""");
        var token = first.GetProperty("token").GetString();
        var second = await AcquireAsync(client, name, $$"""{"ttlMs":60000,"owner":"same","token":"{{token}}"}""");
        Assert.Equal(token, second.GetProperty("token").GetString());
        Assert.Equal(first.GetProperty("fencingToken").GetInt64(), second.GetProperty("fencingToken").GetInt64());
        Assert.True(second.GetProperty("expiresAt").GetDateTimeOffset() > first.GetProperty("expiresAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task AcquireLock_OwnerReadsThroughTheLibrary_WriteWithItsToken_Answers409NotA500()
    {
        using var client = Client();
        var name = NewName("lock");
        var owner = NewName("o");
        var locks = Fixture.Api.Services.GetRequiredService<ICoordinatorFactory>().ForTenant("tenant-a").Locks;
        await using var reader = await locks.AcquireReadAsync(name, new LockOptions { Owner = owner }, Cancellation);

        using var response = await SendAsync(client, HttpMethod.Post, Lock(name), $$"""{"ttlMs":30000,"owner":"{{owner}}","token":"{{reader.Token}}"}""");

        await AssertProblemAsync(response, HttpStatusCode.Conflict, "lock-not-acquired");
    }

    [Fact]
    public async Task AcquireLock_OwnerOfAnotherClientsHold_WithoutOrWithWrongToken_Answers409WithoutTheToken()
    {
        using var clientA = Client();
        using var clientB = Client();
        var name = NewName("lock");
        var owner = NewName("o");
        var lease = await AcquireAsync(clientA, name, $$"""{"ttlMs":30000,"owner":"{{owner}}"}""");
        var token = lease.GetProperty("token").GetString()!;
        var fencingToken = lease.GetProperty("fencingToken").GetInt64();

        string[] hostile =
        [
            $$"""{"ttlMs":2592000000,"owner":"{{owner}}"}""",
            $$"""{"ttlMs":2592000000,"waitMs":50,"owner":"{{owner}}"}""",
            $$"""{"ttlMs":2592000000,"owner":"{{owner}}","token":"not-the-token"}""",
            $$"""{"ttlMs":2592000000,"owner":"{{owner}}","token":"{{token[..^1]}}"}""",
        ];
        foreach (var json in hostile)
        {
            using var response = await SendAsync(clientB, HttpMethod.Post, Lock(name), json);
            var body = await response.Content.ReadAsStringAsync(Cancellation);
            var problem = await AssertProblemAsync(response, HttpStatusCode.Conflict, "lock-not-acquired");
            Assert.DoesNotContain(token, body, StringComparison.Ordinal);
            Assert.False(problem.TryGetProperty("token", out _));
            Assert.False(problem.TryGetProperty("fencingToken", out _));
            Assert.DoesNotContain(response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value), v => v.Contains(token, StringComparison.Ordinal));
        }

        // GET shows the owner, never the token; the hostile requests did not extend the hold.
        using (var get = await clientB.GetAsync(Lock(name), Cancellation))
        {
            var body = await get.Content.ReadAsStringAsync(Cancellation);
            await AssertStatusAsync(get, HttpStatusCode.OK);
            Assert.DoesNotContain(token, body, StringComparison.Ordinal);
            var info = JsonDocument.Parse(body).RootElement;
            Assert.Equal(owner, info.GetProperty("owner").GetString());
            Assert.InRange(info.GetProperty("ttlMs").GetInt64(), 1, 30_000);
        }

        // The caller that acquired it re-enters with its token as before: same token, same fencing token.
        var again = await AcquireAsync(clientA, name, $$"""{"ttlMs":30000,"owner":"{{owner}}","token":"{{token}}"}""");
        Assert.Equal(token, again.GetProperty("token").GetString());
        Assert.Equal(fencingToken, again.GetProperty("fencingToken").GetInt64());

        // Two counts: the first release leaves it held, the second frees it.
        using (var release = await clientA.DeleteAsync(Lock(name, token), Cancellation))
        {
            await AssertStatusAsync(release, HttpStatusCode.NoContent);
        }

        Assert.Equal(owner, (await GetOkAsync(clientA, Lock(name))).GetProperty("owner").GetString());
        using (var release = await clientA.DeleteAsync(Lock(name, token), Cancellation))
        {
            await AssertStatusAsync(release, HttpStatusCode.NoContent);
        }
    }

    [Fact]
    public async Task AcquireLock_ManyHostileReentriesWhileHolderReentersAndChanges_DiscloseNoToken()
    {
        using var clientA = Client();
        using var clientB = Client();
        var name = NewName("lock");
        var owner = NewName("o");
        var tokensOfA = new System.Collections.Concurrent.ConcurrentDictionary<string, byte>(StringComparer.Ordinal);
        var answersOfB = new System.Collections.Concurrent.ConcurrentBag<string>();
        var hostileDone = new TaskCompletionSource();
        var reentries = 0;

        // A: takes the lock as owner, re-enters it with its token, releases every count and takes it anew (a new
        // token each round), so the hold changes hands under the hostile requests.
        var holder = Task.Run(async () =>
        {
            while (!hostileDone.Task.IsCompleted)
            {
                var lease = await AcquireAsync(clientA, name, $$"""{"ttlMs":30000,"waitMs":10000,"owner":"{{owner}}"}""");
                var token = lease.GetProperty("token").GetString()!;
                tokensOfA[token] = 0;
                for (var i = 0; i < 2; i++)
                {
                    var again = await AcquireAsync(clientA, name, $$"""{"ttlMs":30000,"owner":"{{owner}}","token":"{{token}}"}""");
                    Assert.Equal(token, again.GetProperty("token").GetString());
                    Interlocked.Increment(ref reentries);
                }

                for (var i = 0; i < 3; i++)
                {
                    using var release = await clientA.DeleteAsync(Lock(name, token), Cancellation);
                    await AssertStatusAsync(release, HttpStatusCode.NoContent);
                }
            }
        }, Cancellation);

        // B: 200 requests at once naming A's owner, without a token or with a wrong one. One that finds the lock free
        // gets a hold of its own (its own new token) and gives it back.
        var hostile = Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var json = i % 2 == 0
                ? $$"""{"ttlMs":2592000000,"owner":"{{owner}}"}"""
                : $$"""{"ttlMs":2592000000,"owner":"{{owner}}","token":"wrong-{{i}}"}""";
            using var response = await SendAsync(clientB, HttpMethod.Post, Lock(name), json);
            var body = await response.Content.ReadAsStringAsync(Cancellation);
            answersOfB.Add(body + "\n" + string.Join("\n", response.Headers.Concat(response.Content.Headers).SelectMany(h => h.Value)));
            if (response.StatusCode == HttpStatusCode.OK)
            {
                var own = JsonDocument.Parse(body).RootElement.GetProperty("token").GetString()!;
                using var release = await clientB.DeleteAsync(Lock(name, own), Cancellation);
            }
            else
            {
                Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            }
        }, Cancellation)).ToArray();
        try
        {
            await Task.WhenAll(hostile);
        }
        finally
        {
            hostileDone.TrySetResult();
        }

        await holder;

        var disclosures = answersOfB.Count(answer => tokensOfA.Keys.Any(token => answer.Contains(token, StringComparison.Ordinal)));
        Assert.Equal(200, answersOfB.Count);
        Assert.True(reentries > 0);
        Assert.Equal(0, disclosures);
    }

    [Fact]
    public async Task AcquireLock_TwoOwnersWaitingCrossed_OneGets409DeadlockDetected()
    {
        using var client = Client();
        var (alice, bob) = (NewName("alice"), NewName("bob"));
        var (first, second) = (NewName("first"), NewName("second"));
        await AcquireAsync(client, first, $$"""{"ttlMs":30000,"owner":"{{alice}}"}""");
        var bobHolds = await AcquireAsync(client, second, $$"""{"ttlMs":30000,"owner":"{{bob}}"}""");

        var aliceWaits = SendAsync(client, HttpMethod.Post, Lock(second), $$"""{"ttlMs":30000,"waitMs":10000,"owner":"{{alice}}"}""");
        await Task.Delay(200, Cancellation);
        using var bobWaits = await SendAsync(client, HttpMethod.Post, Lock(first), $$"""{"ttlMs":30000,"waitMs":10000,"owner":"{{bob}}"}""");
        var problem = await AssertProblemAsync(bobWaits, HttpStatusCode.Conflict, "deadlock-detected");
        var cycle = problem.GetProperty("cycle").EnumerateArray().ToArray();
        Assert.Equal(2, cycle.Length);
        Assert.Equal(bob, cycle[0].GetProperty("owner").GetString());
        Assert.Equal(first, cycle[0].GetProperty("name").GetString());

        // Bob gives his lock up: Alice's wait ends with it.
        using (var release = await client.DeleteAsync(Lock(second, bobHolds.GetProperty("token").GetString()), Cancellation))
        {
            await AssertStatusAsync(release, HttpStatusCode.NoContent);
        }

        using var granted = await aliceWaits.WaitAsync(TimeSpan.FromSeconds(15), Cancellation);
        await AssertStatusAsync(granted, HttpStatusCode.OK);
    }

    [Fact]
    public async Task ReleaseAndExtend_WrongToken_Answer409LockNotHeld()
    {
        using var client = Client();
        var name = NewName("lock");
        await AcquireAsync(client, name, """{"ttlMs":30000}""");

        using (var release = await client.DeleteAsync(Lock(name, "not-the-token"), Cancellation))
        {
            await AssertProblemAsync(release, HttpStatusCode.Conflict, "lock-not-held");
        }

        using var extend = await SendAsync(client, HttpMethod.Post, Extend(name), """{"token":"not-the-token","ttlMs":1000}""");
        await AssertProblemAsync(extend, HttpStatusCode.Conflict, "lock-not-held");
    }

    [Fact]
    public async Task Lock_NameWithEncodedSlash_IsOneName()
    {
        using var client = Client();
        var name = NewName("orders") + "/42";
        var lease = await AcquireAsync(client, name, """{"ttlMs":30000}""");
        Assert.Equal(name, lease.GetProperty("name").GetString());

        Assert.Equal(name, (await GetOkAsync(client, Lock(name))).GetProperty("name").GetString());
        await SendExpectingAsync(client, HttpMethod.Post, Extend(name), $$"""{"token":"{{lease.GetProperty("token").GetString()}}","ttlMs":30000}""", HttpStatusCode.OK);

        // A literal "%2F" in a name (sent as %252F) is another name.
        using var literal = await client.GetAsync(Lock(name.Replace("/", "%2F", StringComparison.Ordinal)), Cancellation);
        await AssertProblemAsync(literal, HttpStatusCode.NotFound, "not-found");
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("POST")]
    [InlineData("DELETE")]
    public async Task Lock_NameWithUnencodedSlash_Answers400NamingName(string method)
    {
        using var client = Client();
        using var response = await SendAsync(client, new HttpMethod(method), new Uri($"/v1/locks/{NewName()}/a/b", UriKind.Relative), """{"ttlMs":1000}""");
        await AssertValidationProblemAsync(response, "name");
    }

    [Theory]
    [InlineData("acquire", "{}", "ttlMs")]
    [InlineData("acquire", """{"ttlMs":null}""", "ttlMs")]
    [InlineData("acquire", """{"ttlMs":0}""", "ttlMs")]
    [InlineData("acquire", """{"ttlMs":-5}""", "ttlMs")]
    [InlineData("acquire", """{"ttlMs":1e30}""", "ttlMs")]
    [InlineData("acquire", """{"ttlMs":99999999999999999999}""", "ttlMs")]
    [InlineData("acquire", """{"ttlMs":"1000"}""", "ttlMs")]
    [InlineData("acquire", """{"ttlMs":1000,"waitMs":-1}""", "waitMs")]
    [InlineData("acquire", """{"ttlMs":1000,"waitMs":2592000001}""", "waitMs")]
    [InlineData("acquire", """{"ttlMs":1000,"waitMs":"5"}""", "waitMs")]
    [InlineData("acquire", """{"ttlMs":1000,"waitMs":1.5}""", "waitMs")]
    [InlineData("acquire", """{"ttlMs":1000,"owner":5}""", "owner")]
    [InlineData("acquire", """{"ttlMs":1000,"owner":""}""", "owner")]
    [InlineData("acquire", """{"ttlMs":1000,"owner":"a\u0001b"}""", "owner")]
    [InlineData("acquire", """{"ttlMs":1000,"owner":["x"]}""", "owner")]
    [InlineData("acquire", """{"ttlMs":1000,"owner":"\uD800"}""", "owner")]
    [InlineData("acquire", """{"ttlMs":1000""", "body")]
    [InlineData("acquire", "[]", "body")]
    [InlineData("acquire", "null", "body")]
    [InlineData("acquire", "", "body")]
    [InlineData("extend", """{"ttlMs":1000}""", "token")]
    [InlineData("extend", """{"token":"","ttlMs":1000}""", "token")]
    [InlineData("extend", """{"token":5,"ttlMs":1000}""", "token")]
    [InlineData("extend", """{"token":"t"}""", "ttlMs")]
    [InlineData("extend", """{"token":"t","ttlMs":0}""", "ttlMs")]
    [InlineData("extend", """{"token":"t","ttlMs":"1"}""", "ttlMs")]
    [InlineData("extend", "{", "body")]
    [InlineData("extend", "1", "body")]
    [InlineData("extend", "", "body")]
    public async Task LockBody_Bad_Answers400NamingTheField(string call, string json, string field)
    {
        using var client = Client();
        var name = NewName("lock");
        using var response = await SendAsync(client, HttpMethod.Post, call == "extend" ? Extend(name) : Lock(name), json);
        await AssertValidationProblemAsync(response, field);
    }

    [Fact]
    public async Task AcquireLock_OwnerOver512Bytes_Answers400NamingOwner()
    {
        using var client = Client();
        using var response = await SendAsync(client, HttpMethod.Post, Lock(NewName("lock")), $$"""{"ttlMs":1000,"owner":"{{new string('o', 513)}}"}""");
        await AssertValidationProblemAsync(response, "owner");
    }

    [Fact]
    public async Task AcquireLock_BodyOverTheLimit_Answers400NamingBody()
    {
        using var client = Client();
        using var response = await SendAsync(client, HttpMethod.Post, Lock(NewName("lock")), $$"""{"ttlMs":1000,"owner":"{{new string('o', 20_000)}}"}""");
        await AssertValidationProblemAsync(response, "body");
    }

    [Fact]
    public async Task AcquireLock_BadNameAndBadTtl_NamesBoth()
    {
        using var client = Client();
        using var response = await SendAsync(client, HttpMethod.Post, Lock(new string('n', 513)), """{"ttlMs":0}""");
        await AssertValidationProblemAsync(response, "name", "ttlMs");
    }

    [Fact]
    public async Task AcquireLock_NullWaitAndOwner_TryOnce()
    {
        using var client = Client();
        await AcquireAsync(client, NewName("lock"), """{"ttlMs":1000,"waitMs":null,"owner":null}""");
    }

    [Fact]
    public async Task ExtendLock_BadName_Answers400NamingName()
    {
        using var client = Client();
        using var response = await SendAsync(client, HttpMethod.Post, Extend("bad\u0001name"), """{"token":"t","ttlMs":1000}""");
        await AssertValidationProblemAsync(response, "name");
    }

    [Fact]
    public async Task ReleaseLock_WithoutToken_Answers400NamingToken()
    {
        using var client = Client();
        using var response = await client.DeleteAsync(Lock(NewName("lock")), Cancellation);
        await AssertValidationProblemAsync(response, "token");
    }

    [Fact]
    public async Task GetLock_BadName_Answers400NamingName()
    {
        using var client = Client();
        using var response = await client.GetAsync(Lock(new string('n', 513)), Cancellation);
        await AssertValidationProblemAsync(response, "name");
    }

    [Fact]
    public async Task Locks_OfTwoTenants_AreIndependent()
    {
        using var tenantA = Client();
        using var tenantB = Client(ApiFactory.OtherTenantKey);
        var name = NewName("lock");
        await AcquireAsync(tenantA, name, """{"ttlMs":30000}""");
        await AcquireAsync(tenantB, name, """{"ttlMs":30000}""");
    }

    private static async Task<JsonElement> AcquireAsync(HttpClient client, string name, string json)
    {
        using var response = await SendAsync(client, HttpMethod.Post, Lock(name), json);
        await AssertStatusAsync(response, HttpStatusCode.OK);
        return await ReadJsonAsync(response);
    }
}
