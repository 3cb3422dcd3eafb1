using System.Diagnostics;
using Coordination.Api.Tests.Infrastructure;
using Coordination.IntegrationTests.Alerts;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Api.Tests.Alerts;

/// <summary>
/// The API as deployed (its Program.cs, ServiceDefaults and all) alerts a Redis outage it sees: a real redis-server
/// paused under it, a real HTTP listener as the webhook.
/// </summary>
public sealed class ApiAlertsTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task RedisPausedUnderTheApi_OneFiringWithinBoundThenOneResolved()
    {
        await using var webhook = AlertWebhook.Start();
        var redis = await RedisServer.StartAsync(Cancellation);
        await using (redis)
        {
            await using var api = ApiFactory.StartOnKestrel(redis.ConnectionString, new Dictionary<string, string?>
            {
                ["Coordination:Resilience:AttemptTimeout"] = "00:00:00.300",
                ["Coordination:Resilience:BreakDuration"] = "00:00:00.500",
                ["Coordination:Health:ProbeTimeout"] = "00:00:00.300",
                ["Coordination:Health:DegradedLatency"] = "00:00:00.200",
                ["Coordination:Alerts:NodeName"] = "api-1",
                ["Coordination:Alerts:EvaluationInterval"] = "00:00:00.200",
                ["Coordination:Alerts:CircuitOpenThreshold"] = "00:00:01",
                ["Coordination:Alerts:Webhooks:0:Url"] = webhook.Url,
            });
            using var client = api.CreateApiClient();
            using var traffic = CancellationTokenSource.CreateLinkedTokenSource(Cancellation);
            var loop = Task.Run(
                async () =>
                {
                    var key = Kv(NewName());
                    while (!traffic.IsCancellationRequested)
                    {
                        try
                        {
                            using var response = await client.GetAsync(key, traffic.Token);
                            await Task.Delay(50, traffic.Token);
                        }
                        catch (OperationCanceledException) when (traffic.IsCancellationRequested)
                        {
                            return;
                        }
                    }
                },
                Cancellation);
            try
            {
                var paused = Stopwatch.GetTimestamp();
                await redis.PauseAsync();
                try
                {
                    await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.CircuitOpen, "firing").Count > 0, TimeSpan.FromSeconds(15), "the circuit-open firing", Cancellation);
                    TestContext.Current.TestOutputHelper?.WriteLine($"[measure] API: circuit-open firing received {Stopwatch.GetElapsedTime(paused).TotalMilliseconds:F0} ms after Redis was paused (threshold 1 s)");
                    await Task.Delay(TimeSpan.FromSeconds(1), Cancellation); // 5 more evaluations: no second firing
                }
                finally
                {
                    await redis.ResumeAsync();
                }

                var firing = Assert.Single(webhook.For(AlertRules.CircuitOpen, "firing"));
                Assert.Equal("api-1", firing.Node);
                await ProcessUtil.WaitUntilAsync(() => webhook.For(AlertRules.CircuitOpen, "resolved").Count > 0, TimeSpan.FromSeconds(20), "the circuit-open resolved", Cancellation);
                await Task.Delay(TimeSpan.FromSeconds(1), Cancellation);
                Assert.Equal(firing.Incident, Assert.Single(webhook.For(AlertRules.CircuitOpen, "resolved")).Incident);
                Assert.Single(webhook.For(AlertRules.CircuitOpen, "firing"));
            }
            finally
            {
                await traffic.CancelAsync();
                await loop;
            }
        }
    }
}
