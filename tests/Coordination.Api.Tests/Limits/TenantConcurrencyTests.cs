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
    public async Task TenantWithEveryPermitBusy_QueuesThenIsRefused429_OtherTenantServedAtOnce()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:TenantConcurrency:PermitLimit"] = "1",
            ["Coordination:TenantConcurrency:QueueLimit"] = "1",
        });
        using var tenantA = api.CreateApiClient();
        using var tenantB = api.CreateApiClient(ApiFactory.OtherTenantKey);

        // A holds a lock; A's next request waiting for it keeps A's only permit busy until the hold expires.
        var name = NewName("lock");
        using (var held = await tenantA.PostAsync(Lock(name), Json("""{"ttlMs":3000}"""), Cancellation))
        {
            await AssertStatusAsync(held, HttpStatusCode.OK);
        }

        var waiting = tenantA.PostAsync(Lock(name), Json("""{"ttlMs":1000,"waitMs":10000}"""), Cancellation);
        await Task.Delay(300, Cancellation);
        Assert.False(waiting.IsCompleted, "The acquisition should wait for the held lock.");
        var queued = tenantA.GetAsync(Kv(NewName()), Cancellation);
        await Task.Delay(300, Cancellation);
        Assert.False(queued.IsCompleted, "The second request of the tenant should wait for the permit.");

        using (var refused = await tenantA.GetAsync(Kv(NewName()), Cancellation))
        {
            await AssertProblemAsync(refused, (HttpStatusCode)429, "too-many-requests");
            Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        }

        // The other tenant does not wait behind A.
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        await SendExpectingAsync(tenantB, HttpMethod.Put, Kv(NewName()), """{"value":1}""");
        Assert.True(System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromSeconds(2));
        Assert.False(queued.IsCompleted);

        // The first hold expires: the waiter gets the lock, then the queued request runs.
        using (var acquired = await waiting)
        {
            await AssertStatusAsync(acquired, HttpStatusCode.OK);
        }

        using (var served = await queued)
        {
            await AssertStatusAsync(served, HttpStatusCode.NotFound);
        }
    }
}
