using System.Net;
using Coordination.Api.Tests.Infrastructure;

namespace Coordination.Api.Tests.Limits;

/// <summary>
/// The per-tenant bulkhead (<c>Coordination:TenantConcurrency</c>): a tenant with every permit busy and its queue full
/// gets 429 <c>too-many-requests</c> with <c>Retry-After</c>, while another tenant on the same replica is served at
/// once; a queued request runs when a permit frees.
/// </summary>
public sealed class TenantConcurrencyTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task TenantWithEveryLargeBodyPermitBusy_QueuesThenIsRefused429_ItsSmallRequestsAndOtherTenantServedAtOnce()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:TenantConcurrency:LargeBodyPermitLimit"] = "1",
            ["Coordination:TenantConcurrency:QueueLimit"] = "1",
        });
        using var tenantA = api.CreateApiClient();
        using var tenantB = api.CreateApiClient(ApiFactory.OtherTenantKey);

        // A body of undeclared length (chunked) that arrives slowly keeps A's only large-body permit busy.
        var slowBody = HeldBack("""{"value":1}""");
        var slow = tenantA.PutAsync(Kv(NewName()), slowBody, Cancellation);
        await slowBody.Started.WaitAsync(TimeSpan.FromSeconds(10), Cancellation);
        await Task.Delay(200, Cancellation);
        var queuedBody = HeldBack("""{"value":2}""");
        queuedBody.Release();
        var queued = tenantA.PutAsync(Kv(NewName()), queuedBody, Cancellation);
        await Task.Delay(300, Cancellation);
        Assert.False(queued.IsCompleted, "The second large request of the tenant should wait for the permit.");

        var refusedBody = HeldBack("""{"value":3}""");
        refusedBody.Release();
        using (var refused = await tenantA.PutAsync(Kv(NewName()), refusedBody, Cancellation))
        {
            await AssertProblemAsync(refused, (HttpStatusCode)429, "too-many-requests");
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }

        // The tenant's small requests and the other tenant do not wait behind A's large ones.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await SendExpectingAsync(tenantA, HttpMethod.Put, Kv(NewName()), """{"value":4}""");
        await SendExpectingAsync(tenantB, HttpMethod.Put, Kv(NewName()), """{"value":5}""");
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(2));
        Assert.False(queued.IsCompleted);

        // The slow body completes: its request ends, then the queued one runs.
        slowBody.Release();
        using (var written = await slow)
        {
            await AssertStatusAsync(written, HttpStatusCode.NoContent);
        }

        using (var served = await queued)
        {
            await AssertStatusAsync(served, HttpStatusCode.NoContent);
        }
    }

    [Fact]
    public async Task TenantWithEverySmallRequestPermitBusy_IsRefused429()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:TenantConcurrency:PermitLimit"] = "1",
            ["Coordination:TenantConcurrency:LargeBodyBytes"] = "1000000",
            ["Coordination:TenantConcurrency:QueueLimit"] = "0",
        });
        using var tenant = api.CreateApiClient();
        var slowBody = HeldBack("""{"value":1}""");
        slowBody.Headers.ContentLength = """{"value":1}""".Length;
        var slow = tenant.PutAsync(Kv(NewName()), slowBody, Cancellation);
        await slowBody.Started.WaitAsync(TimeSpan.FromSeconds(10), Cancellation);
        await Task.Delay(200, Cancellation);
        using (var refused = await tenant.GetAsync(Kv(NewName()), Cancellation))
        {
            await AssertProblemAsync(refused, (HttpStatusCode)429, "too-many-requests");
        }

        slowBody.Release();
        using var written = await slow;
        await AssertStatusAsync(written, HttpStatusCode.NoContent);
    }

    private static HeldBackContent HeldBack(string json)
    {
        var content = new HeldBackContent(json);
        content.Headers.ContentType = new("application/json");
        return content;
    }

    [Fact]
    public async Task LockWaits_AreOutsideTheBulkhead_SoTheHolderCanStillRelease()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:TenantConcurrency:PermitLimit"] = "1",
            ["Coordination:TenantConcurrency:QueueLimit"] = "0",
        });
        using var tenant = api.CreateApiClient();
        var name = NewName("lock");
        using var held = await tenant.PostAsync(Lock(name), Json("""{"ttlMs":30000}"""), Cancellation);
        await AssertStatusAsync(held, HttpStatusCode.OK);
        var token = (await ReadJsonAsync(held)).GetProperty("token").GetString();

        var waiters = Enumerable.Range(0, 3).Select(_ => tenant.PostAsync(Lock(name), Json("""{"ttlMs":30000,"waitMs":20000}"""), Cancellation)).ToArray();
        await Task.Delay(300, Cancellation);
        using (var released = await tenant.DeleteAsync(Lock(name, token), Cancellation))
        {
            await AssertStatusAsync(released, HttpStatusCode.NoContent);
        }

        using var next = await Task.WhenAny(waiters).Unwrap();
        await AssertStatusAsync(next, HttpStatusCode.OK);
    }

    /// <summary>A JSON body that sends nothing until <see cref="Release"/>: the request holds its permit meanwhile.</summary>
    private sealed class HeldBackContent(string json) : HttpContent
    {
        private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Started => _started.Task;

        public void Release() => _released.TrySetResult();

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            await stream.FlushAsync();
            _started.TrySetResult();
            await _released.Task;
            await stream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(json));
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }
}
