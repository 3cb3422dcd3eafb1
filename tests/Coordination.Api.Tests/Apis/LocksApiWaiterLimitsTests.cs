using System.Globalization;
using System.Net;
using Coordination.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Api.Tests.Apis;

/// <summary>
/// The bounds on waiters over HTTP (issue 12, finding 2): a request that would wait beyond the lock's bound answers
/// 409 <c>lock-queue-full</c>, beyond the tenant's 429 <c>too-many-waiters</c>, at once and with <c>Retry-After</c>;
/// the other tenant's locks are untouched by it. On an API of its own, with low bounds.
/// </summary>
public sealed class LocksApiWaiterLimitsTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task AcquireLock_WaitsBeyondTheLockAndTenantBounds_Answer409LockQueueFullAnd429TooManyWaiters()
    {
        await using var api = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, new Dictionary<string, string?>
        {
            ["Coordination:Locks:MaxWaitersPerTenant"] = "3",
            ["Coordination:Locks:MaxWaitersPerLock"] = "2",
        });
        using var client = api.CreateApiClient();
        using var otherTenant = api.CreateApiClient(ApiFactory.OtherTenantKey);
        var locks = api.Services.GetRequiredService<ICoordinatorFactory>().ForTenant("tenant-a").Locks;
        var (first, second) = (NewName("lock"), NewName("lock"));
        using var held = await SendAsync(client, HttpMethod.Post, Lock(first), """{"ttlMs":60000}""");
        await AssertStatusAsync(held, HttpStatusCode.OK);
        using var heldToo = await SendAsync(client, HttpMethod.Post, Lock(second), """{"ttlMs":60000}""");
        await AssertStatusAsync(heldToo, HttpStatusCode.OK);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
        var waiting = new List<Task<HttpResponseMessage>>();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                waiting.Add(client.PostAsync(Lock(first), Json($$"""{"ttlMs":1000,"waitMs":60000,"owner":"w{{i}}"}"""), stop.Token));
            }

            await WaitForWaitersAsync(locks, first, 2);
            using (var full = await SendAsync(client, HttpMethod.Post, Lock(first), """{"ttlMs":1000,"waitMs":60000,"owner":"late"}"""))
            {
                var problem = await AssertProblemAsync(full, HttpStatusCode.Conflict, "lock-queue-full");
                Assert.Equal(2, problem.GetProperty("maxWaiters").GetInt32());
                Assert.Equal(1, int.Parse(full.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture));
            }

            waiting.Add(client.PostAsync(Lock(second), Json("""{"ttlMs":1000,"waitMs":60000,"owner":"w2"}"""), stop.Token));
            await WaitForWaitersAsync(locks, second, 1);
            using (var tooMany = await SendAsync(client, HttpMethod.Post, Lock(second), """{"ttlMs":1000,"waitMs":60000,"owner":"late"}"""))
            {
                var problem = await AssertProblemAsync(tooMany, HttpStatusCode.TooManyRequests, "too-many-waiters");
                Assert.Equal(3, problem.GetProperty("maxWaiters").GetInt32());
                Assert.Equal(1, int.Parse(tooMany.Headers.GetValues("Retry-After").Single(), CultureInfo.InvariantCulture));
            }

            // The other tenant has its own bound: its waits are admitted, and run out as asked.
            var otherName = NewName("lock");
            using var otherHeld = await SendAsync(otherTenant, HttpMethod.Post, Lock(otherName), """{"ttlMs":60000}""");
            await AssertStatusAsync(otherHeld, HttpStatusCode.OK);
            using var otherWait = await SendAsync(otherTenant, HttpMethod.Post, Lock(otherName), """{"ttlMs":1000,"waitMs":200}""");
            await AssertProblemAsync(otherWait, HttpStatusCode.Conflict, "lock-not-acquired");
            Assert.All(waiting, w => Assert.False(w.IsCompleted));
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var request in waiting)
            {
                // Cancelled by now; one that answered meanwhile is disposed.
                await request.ContinueWith(t => { if (t.IsCompletedSuccessfully) { t.Result.Dispose(); } }, TaskScheduler.Default);
            }
        }
    }

    private static async Task WaitForWaitersAsync(IDistributedLockManager locks, string name, int waiters)
    {
        var deadline = DateTimeOffset.UtcNow.AddSeconds(10);
        while ((await locks.GetInfoAsync(name, Cancellation))?.Waiters != waiters)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, $"The lock did not get {waiters} waiters.");
            await Task.Delay(20, Cancellation);
        }
    }
}
