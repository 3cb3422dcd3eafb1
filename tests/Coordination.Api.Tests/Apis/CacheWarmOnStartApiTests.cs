using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Text;
using Coordination.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.Api.Tests.Apis;

/// <summary>
/// Warm-on-start as deployed: a replica of the API that restarts gets the hottest keys of its tenants into its memory
/// level before it serves, so its first reads of them are memory hits (the <c>coordination.cache.requests</c> counter).
/// </summary>
public sealed class CacheWarmOnStartApiTests(ApiFixture fixture) : ApiTest(fixture)
{
    [Fact]
    public async Task RestartedReplica_FirstReadsOfTheHotKeys_AreMemoryHits()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Coordination:KeyPrefix"] = "api-warm-" + Guid.NewGuid().ToString("N")[..12],
            ["Coordination:Cache:HotKeys:ReportInterval"] = "00:00:00.100",
            ["Coordination:Cache:HotKeys:SampleRate"] = "1",
            ["Coordination:Cache:HotKeys:KeysPerTenant"] = "5",
        };
        var hot = Enumerable.Range(0, 5).Select(i => $"hot-{i}").ToArray();
        var cold = Enumerable.Range(0, 5).Select(i => $"cold-{i}").ToArray();

        await using (var before = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, settings))
        {
            using var client = before.CreateApiClient();
            foreach (var key in hot.Concat(cold))
            {
                using var put = await client.PutAsync(Cache(key), new StringContent($$"""{"value":{"key":"{{key}}"},"ttlMs":300000}""", Encoding.UTF8, "application/json"), Cancellation);
                Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
            }

            // Sampling counts down per thread, shared by every cache of the process (the shared test API samples one read in
            // 16 on the same threads): enough reads that each hot key is surely counted.
            for (var round = 0; round < 60; round++)
            {
                foreach (var key in hot)
                {
                    using var get = await client.GetAsync(Cache(key), Cancellation);
                    Assert.Equal(HttpStatusCode.OK, get.StatusCode);
                }
            }
        }

        // The replica stopped (its last counts reported on the way out) and a new one starts on the same Redis.
        await using var after = ApiFactory.StartOnKestrel(Fixture.Redis.ConnectionString, settings);
        var meters = after.Services.GetRequiredService<IMeterFactory>();
        var requests = new ConcurrentQueue<(string? Level, string? Result)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Scope == meters && instrument.Name == "coordination.cache.requests")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            string? level = null, result = null;
            foreach (var tag in tags)
            {
                level = tag.Key == "coordination.cache.level" ? tag.Value as string : level;
                result = tag.Key == "coordination.cache.result" ? tag.Value as string : result;
            }

            requests.Enqueue((level, result));
        });
        listener.Start();

        using var reader = after.CreateApiClient();
        foreach (var key in hot)
        {
            using var get = await reader.GetAsync(Cache(key), Cancellation);
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }

        var l1 = requests.Where(r => r.Level == "l1").ToArray();
        Assert.Equal(5, l1.Count(r => r.Result == "hit"));
        Assert.Equal(0, l1.Count(r => r.Result == "miss"));

        // A key nobody read often was not warmed: its first read misses memory.
        using (var get = await reader.GetAsync(Cache(cold[0]), Cancellation))
        {
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        }

        Assert.Contains(requests, r => r is ("l1", "miss"));
    }
}
