using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

using static Coordination.AppHost.Tests.ApiTestSupport;

namespace Coordination.AppHost.Tests;

/// <summary>
/// The cache endpoints end to end, against each api replica directly: every replica keeps its own memory level, so
/// an invalidation sent to one replica must hide the entry from a read through the other one (the backplane).
/// </summary>
[Collection(SharedLocalModeApp.Name)]
public sealed class CacheApiTests(LocalModeAppFixture fixture)
{
    // Bounds each test as a whole, the shared AppHost's start included when this class runs first; the work of each
    // test has its own, shorter bound so its message wins.
    private const int TestTimeoutMs = 180_000;

    private const string ProblemTypes = "https://coordination.dev/errors/";


    // How long an invalidation may take to reach the other replica's memory level (milliseconds in practice).
    private static readonly TimeSpan PropagationTimeout = TimeSpan.FromSeconds(5);

    [Fact(Timeout = TestTimeoutMs)]
    public async Task PutGetDelete_RoundTripsAnyJsonAcrossReplicas()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;
        var key = $"{NewPrefix()}/orders/42";
        var value = new { total = 12.5, items = new object[] { "a", 1, true, null! } };

        using (var put = await replicas[0].PutAsJsonAsync(CacheUri(key), new { value, ttlMs = 60_000 }, cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        foreach (var replica in new[] { replicas[0], replicas[1] })
        {
            using var get = await replica.GetAsync(CacheUri(key), cancellationToken);
            using var body = await ReadJsonAsync(get, cancellationToken);
            Assert.True(get.StatusCode == HttpStatusCode.OK, $"GET answered {(int)get.StatusCode}: {body.RootElement.GetRawText()}");
            Assert.Equal(key, body.RootElement.GetProperty("key").GetString());
            Assert.Equal(JsonSerializer.Serialize(value), body.RootElement.GetProperty("value").GetRawText());
        }

        using (var delete = await replicas[1].DeleteAsync(CacheUri(key), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        // Replica 0 had the entry in memory: the delete through replica 1 evicts it there too.
        await AssertMissingSoonAsync(replicas[0], key, cancellationToken);
        using var again = await replicas[1].DeleteAsync(CacheUri(key), cancellationToken);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task InvalidateTags_ThroughOneReplica_HidesTheTaggedEntryFromTheOther()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;
        var prefix = NewPrefix();
        var (tagged, untagged, tag) = ($"{prefix}-tagged", $"{prefix}-untagged", $"{prefix}-tag");
        await PutAsync(replicas[0], tagged, new { value = "v1", ttlMs = 60_000, tags = new[] { tag, $"{prefix}-other" } }, cancellationToken);
        await PutAsync(replicas[0], untagged, new { value = "v2", ttlMs = 60_000 }, cancellationToken);

        // Replica 1 reads both, so its memory level holds them when the invalidation arrives.
        Assert.Equal("v1", await GetValueAsync(replicas[1], tagged, cancellationToken));
        Assert.Equal("v2", await GetValueAsync(replicas[1], untagged, cancellationToken));

        using (var invalidate = await replicas[0].PostAsJsonAsync(InvalidateUri, new { tags = new[] { tag, tag } }, cancellationToken))
        {
            using var body = await ReadJsonAsync(invalidate, cancellationToken);
            Assert.True(invalidate.StatusCode == HttpStatusCode.OK, $"Invalidate answered {(int)invalidate.StatusCode}: {body.RootElement.GetRawText()}");
            Assert.Equal(1, body.RootElement.GetProperty("invalidated").GetInt32());
        }

        await AssertMissingSoonAsync(replicas[1], tagged, cancellationToken);
        Assert.Equal("v2", await GetValueAsync(replicas[1], untagged, cancellationToken));

        // An entry written after the invalidation is visible again.
        await PutAsync(replicas[1], tagged, new { value = "v3", ttlMs = 60_000, tags = new[] { tag } }, cancellationToken);
        Assert.Equal("v3", await GetValueAsync(replicas[0], tagged, cancellationToken));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task InvalidatePrefix_HidesEntriesUnderThePrefixOnly()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;
        var prefix = NewPrefix();
        var (first, second, outside) = ($"{prefix}/users/1", $"{prefix}/users/2", $"{prefix}/orders/1");
        foreach (var key in new[] { first, second, outside })
        {
            await PutAsync(replicas[0], key, new { value = key, ttlMs = 60_000 }, cancellationToken);
            Assert.Equal(key, await GetValueAsync(replicas[1], key, cancellationToken));
        }

        using (var invalidate = await replicas[1].PostAsJsonAsync(InvalidateUri, new { prefix = $"{prefix}/users/" }, cancellationToken))
        {
            using var body = await ReadJsonAsync(invalidate, cancellationToken);
            Assert.True(invalidate.StatusCode == HttpStatusCode.OK, $"Invalidate answered {(int)invalidate.StatusCode}: {body.RootElement.GetRawText()}");
            Assert.Equal(1, body.RootElement.GetProperty("invalidated").GetInt32());
        }

        await AssertMissingSoonAsync(replicas[0], first, cancellationToken);
        await AssertMissingSoonAsync(replicas[1], second, cancellationToken);
        Assert.Equal(outside, await GetValueAsync(replicas[0], outside, cancellationToken));
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task BadKeyOrBody_Answers400NamingTheField()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;

        using (var controlChar = await replicas[0].GetAsync(new Uri("/v1/cache/bad%01key", UriKind.Relative), cancellationToken))
        {
            await AssertValidationProblemAsync(controlChar, "key", cancellationToken);
        }

        using (var tooLong = await replicas[0].PutAsJsonAsync(CacheUri(new string('k', 513)), new { value = 1 }, cancellationToken))
        {
            await AssertValidationProblemAsync(tooLong, "key", cancellationToken);
        }

        using (var badTtl = await replicas[0].PutAsJsonAsync(CacheUri($"{NewPrefix()}-ttl"), new { value = 1, ttlMs = 0 }, cancellationToken))
        {
            await AssertValidationProblemAsync(badTtl, "ttlMs", cancellationToken);
        }

        using var malformed = new StringContent("{\"value\":", System.Text.Encoding.UTF8, "application/json");
        using (var badJson = await replicas[1].PutAsync(CacheUri($"{NewPrefix()}-json"), malformed, cancellationToken))
        {
            await AssertValidationProblemAsync(badJson, "body", cancellationToken);
        }

        using (var nothing = await replicas[1].PostAsJsonAsync(InvalidateUri, new { }, cancellationToken))
        {
            await AssertValidationProblemAsync(nothing, "body", cancellationToken);
        }
    }

    [Fact(Timeout = TestTimeoutMs)]
    public async Task WithoutApiKey_Answers401()
    {
        using var replicas = await ReplicaClients.CreateAsync(fixture, TestContext.Current.CancellationToken);
        using var work = Bound(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        var cancellationToken = work.Token;
        using var anonymous = new HttpClient { BaseAddress = replicas[0].BaseAddress, Timeout = ReplicaClients.RequestTimeout };

        using (var get = await anonymous.GetAsync(CacheUri($"{NewPrefix()}-key"), cancellationToken))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, get.StatusCode);
        }

        using var invalidate = await anonymous.PostAsJsonAsync(InvalidateUri, new { tags = new[] { "t" } }, cancellationToken);
        Assert.Equal(HttpStatusCode.Unauthorized, invalidate.StatusCode);
        using var body = await ReadJsonAsync(invalidate, cancellationToken);
        Assert.Equal(ProblemTypes + "unauthorized", TypeOf(body));
    }

    private static readonly Uri InvalidateUri = new("/v1/cache/invalidate", UriKind.Relative);

    private static async Task PutAsync(HttpClient client, string key, object body, CancellationToken cancellationToken)
    {
        using var response = await client.PutAsJsonAsync(CacheUri(key), body, cancellationToken);
        Assert.True(
            response.StatusCode == HttpStatusCode.NoContent,
            $"PUT '{key}' answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    private static async Task<string?> GetValueAsync(HttpClient client, string key, CancellationToken cancellationToken)
    {
        using var response = await client.GetAsync(CacheUri(key), cancellationToken);
        using var body = await ReadJsonAsync(response, cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET '{key}' answered {(int)response.StatusCode}: {body.RootElement.GetRawText()}");
        return body.RootElement.GetProperty("value").GetString();
    }

    /// <summary>Reads until the key answers 404 not-found, within <see cref="PropagationTimeout"/> (the backplane is asynchronous).</summary>
    private static async Task AssertMissingSoonAsync(HttpClient client, string key, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + PropagationTimeout;
        while (true)
        {
            using var response = await client.GetAsync(CacheUri(key), cancellationToken);
            using var body = await ReadJsonAsync(response, cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                Assert.Equal(ProblemTypes + "not-found", TypeOf(body));
                return;
            }

            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET '{key}' answered {(int)response.StatusCode}: {body.RootElement.GetRawText()}");
            Assert.True(DateTime.UtcNow < deadline, $"'{key}' was still served {PropagationTimeout.TotalSeconds} s after it was invalidated: {body.RootElement.GetRawText()}");
            await Task.Delay(20, cancellationToken);
        }
    }

    private static async Task AssertValidationProblemAsync(HttpResponseMessage response, string field, CancellationToken cancellationToken)
    {
        using var body = await ReadJsonAsync(response, cancellationToken);
        Assert.True(
            response.StatusCode == HttpStatusCode.BadRequest
                && TypeOf(body) == ProblemTypes + "validation"
                && body.RootElement.TryGetProperty("errors", out var errors)
                && errors.TryGetProperty(field, out _),
            $"Expected 400 validation naming '{field}', got {(int)response.StatusCode}: {body.RootElement.GetRawText()}");
    }

    // Keys go in the catch-all route: each segment percent-encoded, the slashes kept.
    private static Uri CacheUri(string key) =>
        new($"/v1/cache/{string.Join('/', key.Split('/').Select(Uri.EscapeDataString))}", UriKind.Relative);
}
