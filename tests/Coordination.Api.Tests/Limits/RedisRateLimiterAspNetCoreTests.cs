using System.Globalization;
using System.Net;
using System.Threading.RateLimiting;
using Coordination.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.Api.Tests.Limits;

/// <summary>
/// An ordinary ASP.NET Core application (not the Coordination API) limited by <c>AddRateLimiter</c> with our limiters
/// against the shared redis-server: a global <see cref="RedisRateLimiterFactory"/> limiter per client answers 429 with
/// <c>Retry-After</c> and the <c>RateLimit-*</c> headers from the lease's metadata, and an endpoint policy of
/// <see cref="RedisRateLimiter"/> over a concurrency policy frees its slot when the request ends (the lease disposed).
/// </summary>
public sealed class RedisRateLimiterAspNetCoreTests(ApiFixture fixture) : ApiTest(fixture)
{
    private const string ClientHeader = "X-Client";

    [Fact]
    public async Task GlobalLimiter_ClientOverItsPolicy_429WithRetryAfterAndRateLimitHeaders_OtherClientServed()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StartAppAsync(gate);
        using var client = app.GetTestClient();
        var first = NewName("client");

        for (var i = 0; i < 2; i++)
        {
            using var allowed = await SendAsync(client, "/work", first);
            await AssertStatusAsync(allowed, HttpStatusCode.OK);
        }

        using (var refused = await SendAsync(client, "/work", first))
        {
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
            Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
            Assert.Equal(("2", "0"), (Header(refused, "RateLimit-Limit"), Header(refused, "RateLimit-Remaining")));
            Assert.InRange(long.Parse(Header(refused, "RateLimit-Reset")!, CultureInfo.InvariantCulture), 1, 60);
        }

        using var other = await SendAsync(client, "/work", NewName("client"));
        await AssertStatusAsync(other, HttpStatusCode.OK);
    }

    [Fact]
    public async Task EndpointPolicyOverAConcurrencyPolicy_SecondRequestRefusedWhileTheFirstRuns_SlotFreedWhenItEnds()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var app = await StartAppAsync(gate, entered);
        using var client = app.GetTestClient();

        var running = SendAsync(client, "/one-at-a-time", client: null);
        await Task.WhenAny(entered.Task, running).WaitAsync(TimeSpan.FromSeconds(10), Cancellation);
        Assert.True(entered.Task.IsCompleted, "The first request should reach the endpoint with the only lease.");

        using (var refused = await SendAsync(client, "/one-at-a-time", client: null, waitForGate: false))
        {
            Assert.Equal((HttpStatusCode)429, refused.StatusCode);
            Assert.InRange(refused.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 60);
        }

        gate.TrySetResult();
        using (var done = await running)
        {
            await AssertStatusAsync(done, HttpStatusCode.OK);
        }

        // The lease is released in the background when the middleware disposes it: the slot frees within moments,
        // long before the policy's 60 s lease period would end it.
        var deadline = DateTime.UtcNow.AddSeconds(5);
        HttpStatusCode status;
        do
        {
            using var next = await SendAsync(client, "/one-at-a-time", client: null, waitForGate: false);
            status = next.StatusCode;
            if (status != HttpStatusCode.OK)
            {
                await Task.Delay(20, Cancellation);
            }
        }
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline);

        Assert.Equal(HttpStatusCode.OK, status);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, string path, string? client, bool waitForGate = true)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, waitForGate ? path : path + "?nowait=1");
        if (client is not null)
        {
            request.Headers.Add(ClientHeader, client);
        }

        return http.SendAsync(request, Cancellation);
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : null;

    private async Task<WebApplication> StartAppAsync(TaskCompletionSource gate, TaskCompletionSource? entered = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = Fixture.Redis.ConnectionString,
            ["Coordination:KeyPrefix"] = "aspnet-" + Guid.NewGuid().ToString("N")[..12],
            ["Coordination:RateLimiting:Policies:per-client:Algorithm"] = "FixedWindow",
            ["Coordination:RateLimiting:Policies:per-client:Limit"] = "2",
            ["Coordination:RateLimiting:Policies:per-client:Period"] = "00:01:00",
            ["Coordination:RateLimiting:Policies:one-at-a-time:Algorithm"] = "Concurrency",
            ["Coordination:RateLimiting:Policies:one-at-a-time:Limit"] = "1",
            ["Coordination:RateLimiting:Policies:one-at-a-time:Period"] = "00:01:00",
        });
        builder.AddCoordination();
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IRateLimitService>((options, rateLimits) =>
        {
            options.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            options.GlobalLimiter = RedisRateLimiterFactory.CreatePartitionedByKey<HttpContext>(
                rateLimits, "per-client", context => context.Request.Headers[ClientHeader].ToString());
            options.AddPolicy("one-at-a-time", context => RateLimitPartition.Get(
                "everyone", key => new RedisRateLimiter(rateLimits, "one-at-a-time", key)));
            options.OnRejected = (rejected, _) =>
            {
                var headers = rejected.HttpContext.Response.Headers;
                if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                {
                    headers.RetryAfter = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                }

                if (rejected.Lease.TryGetMetadata(RedisRateLimiter.DecisionMetadataName, out var decision))
                {
                    headers["RateLimit-Limit"] = decision!.Limit.ToString(CultureInfo.InvariantCulture);
                    headers["RateLimit-Remaining"] = decision.Remaining.ToString(CultureInfo.InvariantCulture);
                    headers["RateLimit-Reset"] = Math.Ceiling(decision.ResetAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                }

                return ValueTask.CompletedTask;
            };
        });

        var app = builder.Build();
        app.UseRateLimiter();
        app.MapGet("/work", () => "ok");
        app.MapGet("/one-at-a-time", async (HttpContext context) =>
        {
            if (!context.Request.Query.ContainsKey("nowait"))
            {
                entered?.TrySetResult();
                await gate.Task.WaitAsync(TimeSpan.FromSeconds(30), context.RequestAborted);
            }

            return "done";
        }).RequireRateLimiting("one-at-a-time");
        await app.StartAsync(Cancellation);
        return app;
    }
}
