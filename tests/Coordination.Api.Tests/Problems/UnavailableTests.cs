using System.Net;
using Coordination.Api.Tests.Infrastructure;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Api.Tests.Problems;

/// <summary>An API whose Redis is gone answers 503 <c>unavailable</c> with <c>Retry-After</c> (its own API instance).</summary>
public sealed class UnavailableTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task KeyValue_RedisDown_Answers503UnavailableWithRetryAfter()
    {
        var redis = await RedisServer.StartAsync(Cancellation);
        await using (redis)
        {
            await using var api = ApiFactory.StartOnKestrel(redis.ConnectionString, new Dictionary<string, string?>
            {
                ["Coordination:Resilience:AttemptTimeout"] = "00:00:00.500",
            });
            await redis.KillAsync();
            using var client = api.CreateApiClient();
            using var response = await client.GetAsync(Kv(NewName()), Cancellation);
            var problem = await AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "unavailable");
            Assert.False(string.IsNullOrEmpty(problem.GetProperty("reason").GetString()));
            Assert.True(response.Headers.RetryAfter is not null);
        }
    }

    [Fact]
    public async Task KeyValue_RedisAtMemoryLimit_Answers503OutOfMemory_NotA500()
    {
        var redis = await RedisServer.StartAsync(Cancellation);
        await using (redis)
        {
            await using var api = ApiFactory.StartOnKestrel(redis.ConnectionString);
            var server = (await redis.GetAdminAsync()).GetServer(redis.ConnectionString);
            await server.ConfigSetAsync("maxmemory-policy", "noeviction");
            await server.ConfigSetAsync("maxmemory", "1");
            using var client = api.CreateApiClient();

            using var put = await client.PutAsync(Kv(NewName()), Json("""{"value":"v"}"""), Cancellation);
            var problem = await AssertProblemAsync(put, HttpStatusCode.ServiceUnavailable, "unavailable");
            Assert.Equal("out-of-memory", problem.GetProperty("reason").GetString());
            using var lockResponse = await client.PostAsync(Lock(NewName()), Json("""{"ttlMs":1000}"""), Cancellation);
            Assert.Equal("out-of-memory", (await AssertProblemAsync(lockResponse, HttpStatusCode.ServiceUnavailable, "unavailable")).GetProperty("reason").GetString());
        }
    }
}
