using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>The rate-limiting instruments: decisions by algorithm and outcome, never a tenant, policy or key as a tag.</summary>
public sealed class RateLimitTelemetryTests(SharedRedisFixture redis)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcquireAsync_Decisions_CountedByAlgorithmAndOutcomeOnly()
    {
        await using var hosts = await RateLimitHosts.StartAsync(redis);
        await hosts.PoliciesA.SetAsync("secret-policy", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 3, Period = TimeSpan.FromMinutes(1) }, Token);
        await hosts.PoliciesA.SetAsync("other", new RateLimitPolicy { Algorithm = RateLimitAlgorithm.Concurrency, Limit = 1, Period = TimeSpan.FromMinutes(1) }, Token);
        var measurements = new ConcurrentQueue<(string Instrument, long Value, KeyValuePair<string, object?>[] Tags)>();
        var factory = hosts.A.Services.GetRequiredService<IMeterFactory>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name.StartsWith("coordination.ratelimit.", StringComparison.Ordinal) && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => measurements.Enqueue((instrument.Name, value, tags.ToArray())));
        listener.Start();
        var limiter = hosts.A.Factory.ForTenant("secret-tenant").RateLimits;

        for (var i = 0; i < 5; i++)
        {
            await limiter.AcquireAsync("secret-policy", "secret-key", cancellationToken: Token);
        }

        await limiter.AcquireAsync("other", "secret-key", cancellationToken: Token);

        var decisions = measurements.Where(m => m.Instrument == "coordination.ratelimit.decisions").ToList();
        string Tag(KeyValuePair<string, object?>[] tags, string name) => (string)tags.Single(t => t.Key == name).Value!;
        Assert.Equal(3, decisions.Count(d => Tag(d.Tags, "coordination.ratelimit.algorithm") == "token_bucket" && Tag(d.Tags, "coordination.ratelimit.outcome") == "allowed"));
        Assert.Equal(2, decisions.Count(d => Tag(d.Tags, "coordination.ratelimit.algorithm") == "token_bucket" && Tag(d.Tags, "coordination.ratelimit.outcome") == "refused"));
        Assert.Equal(1, decisions.Count(d => Tag(d.Tags, "coordination.ratelimit.algorithm") == "concurrency" && Tag(d.Tags, "coordination.ratelimit.outcome") == "allowed"));
        Assert.Equal(6, decisions.Count);
        Assert.Contains(measurements, m => m.Instrument == "coordination.ratelimit.policy.refreshes");
        Assert.All(measurements, m =>
        {
            Assert.All(m.Tags, t => Assert.StartsWith("coordination.ratelimit.", t.Key, StringComparison.Ordinal));
            Assert.DoesNotContain(m.Tags, t => t.Value is string text && text.Contains("secret", StringComparison.Ordinal));
        });
    }
}
