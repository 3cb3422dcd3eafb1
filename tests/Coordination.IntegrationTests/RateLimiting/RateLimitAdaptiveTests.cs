using System.Diagnostics.Metrics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.RateLimiting;

/// <summary>
/// Adaptive policies: the effective limit, passed to the script and returned as <see cref="RateLimitDecision.Limit"/>,
/// shrinks multiplicatively each stressed interval down to the floor and recovers additively up to the policy's limit.
/// </summary>
[Collection(nameof(RateLimitTimingTests))]
public sealed class RateLimitAdaptiveTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AcquireAsync_StressedSignal_ShrinksByTheFactorEachIntervalToTheFloor_AdmitsOnlyThat_ThenRecoversAdditively()
    {
        await using var server = await RedisServer.StartAsync(Token);
        var signal = new SwitchableSignal { Stressed = true };
        await using var host = await CoordinationTestHost.StartAsync(
            server.ConnectionString,
            settings:
            [
                new("Coordination:RateLimiting:Policies:api:Algorithm", "FixedWindow"),
                new("Coordination:RateLimiting:Policies:api:Limit", "1000"),
                new("Coordination:RateLimiting:Policies:api:Period", "01:00:00"),
                new("Coordination:RateLimiting:Policies:api:Adaptive", "true"),
                new("Coordination:RateLimiting:Policies:plain:Algorithm", "FixedWindow"),
                new("Coordination:RateLimiting:Policies:plain:Limit", "1000"),
                new("Coordination:RateLimiting:Policies:plain:Period", "01:00:00"),
                new("Coordination:RateLimiting:Adaptive:Interval", "00:00:00.150"),
            ],
            services: services => services.AddSingleton<IRateLimitHealthSignal>(signal));
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        using var gauge = new GaugeReader(host);

        var shrinking = await LimitsUntilAsync(limiter, "probe-1", limit => limit == 100);
        // The first interval may have ended before the first call (it starts with the host): then 500 comes first.
        long[] halving = [1_000, 500, 250, 125, 100];
        Assert.True(shrinking.Count >= 4, string.Join(", ", shrinking));
        Assert.Equal(halving[^shrinking.Count..], shrinking);
        Assert.Equal(100, gauge.Read("api"));
        Assert.Null(gauge.Read("plain"));
        Assert.Equal(1_000, (await limiter.AcquireAsync("plain", "k", cancellationToken: Token)).Limit);

        // At the floor, Redis admits exactly the effective limit (the window is an hour: no roll-over).
        var admitted = 0;
        for (var call = 0; call < 150; call++)
        {
            var decision = await limiter.AcquireAsync("api", "floor", cancellationToken: Token);
            Assert.Equal(100, decision.Limit);
            admitted += decision.Allowed ? 1 : 0;
        }

        Assert.Equal(100, admitted);
        var stored = await (await server.GetAdminAsync()).GetDatabase().HashGetAllAsync(
            $"{host.KeyPrefix}:default:ratelimit:{{{host.KeyPrefix}:default}}:api:fixed_window:floor");
        Assert.NotEmpty(stored);

        signal.Stressed = false;
        var recovering = await LimitsUntilAsync(limiter, "probe-2", limit => limit == 1_000);
        Assert.Equal([100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000], recovering);
        Assert.Equal(1_000, gauge.Read("api"));
    }

    [Fact]
    public async Task AcquireAsync_RedisPausedForWrites_ShrinksTheEffectiveLimit_ThenRecoversWhenItAnswersQuickly()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(
            server.ConnectionString,
            settings:
            [
                new("Coordination:RateLimiting:Policies:api:Algorithm", "TokenBucket"),
                new("Coordination:RateLimiting:Policies:api:Limit", "100000"),
                new("Coordination:RateLimiting:Policies:api:Period", "00:00:01"),
                new("Coordination:RateLimiting:Policies:api:Adaptive", "true"),
                new("Coordination:RateLimiting:Adaptive:Interval", "00:00:00.300"),
                new("Coordination:RateLimiting:Adaptive:LatencyThreshold", "00:00:00.100"),
                new("Coordination:RateLimiting:Adaptive:IncreaseStep", "0.05"),
            ]);
        var limiter = host.Services.GetRequiredService<IRateLimitService>();
        var admin = (await server.GetAdminAsync()).GetServer((await server.GetAdminAsync()).GetEndPoints()[0]);

        Assert.Equal(100_000, (await limiter.AcquireAsync("api", "k", cancellationToken: Token)).Limit);
        var lowest = long.MaxValue;
        using (var pausing = CancellationTokenSource.CreateLinkedTokenSource(Token))
        {
            var pauses = Task.Run(
                async () =>
                {
                    // Writes (every rate-limit script) wait 200 ms of every 600 ms: an interval with a pause has more than
                    // 1 % of its calls over the threshold.
                    while (!pausing.IsCancellationRequested)
                    {
                        await admin.ExecuteAsync("CLIENT", "PAUSE", "200", "WRITE");
                        await Task.Delay(600, CancellationToken.None);
                    }
                },
                CancellationToken.None);
            var stressed = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(8);
            while (DateTimeOffset.UtcNow < stressed && lowest > 25_000)
            {
                lowest = Math.Min(lowest, (await limiter.AcquireAsync("api", "k", cancellationToken: Token)).Limit);

                // A client's pace (about 200 calls a second): a pause then slows more than 1 % of an interval's calls.
                await Task.Delay(5, Token);
            }

            await pausing.CancelAsync();
            await pauses;
        }

        await admin.ExecuteAsync("CLIENT", "UNPAUSE");
        Assert.True(lowest <= 25_000, $"the effective limit only went down to {lowest}");

        // Healthy again: +5 % of the limit per 300 ms interval, back to the whole limit.
        var recovered = await LimitsUntilAsync(limiter, "k", limit => limit == 100_000, TimeSpan.FromSeconds(20));
        Assert.Equal(100_000, recovered[^1]);
        Assert.True(recovered.Count >= 2, string.Join(", ", recovered));
    }

    /// <summary>Acquires every 20 ms until <paramref name="done"/>, and returns each new effective limit seen, in order.</summary>
    private static async Task<List<long>> LimitsUntilAsync(IRateLimitService limiter, string key, Func<long, bool> done, TimeSpan? timeout = null)
    {
        var limits = new List<long>();
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTimeOffset.UtcNow < deadline)
        {
            var limit = (await limiter.AcquireAsync("api", key, cancellationToken: Token)).Limit;
            if (limits.Count == 0 || limits[^1] != limit)
            {
                limits.Add(limit);
            }

            if (done(limit))
            {
                return limits;
            }

            await Task.Delay(20, Token);
        }

        throw new TimeoutException($"The effective limit did not get there; seen: {string.Join(", ", limits)}.");
    }

    private sealed class SwitchableSignal : IRateLimitHealthSignal
    {
        private volatile bool _stressed;

        public bool Stressed
        {
            get => _stressed;
            set => _stressed = value;
        }

        public RateLimitHealthSample TakeSample() => _stressed ? new RateLimitHealthSample(10, 0, 10) : new RateLimitHealthSample(10, 0, 0);
    }

    /// <summary>Reads <c>coordination.ratelimit.adaptive.limit</c> of one host by policy.</summary>
    private sealed class GaugeReader : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _values = new(StringComparer.Ordinal);

        public GaugeReader(CoordinationTestHost host)
        {
            var factory = host.Services.GetRequiredService<IMeterFactory>();
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "coordination.ratelimit.adaptive.limit" && ReferenceEquals(instrument.Meter.Scope, factory))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "coordination.ratelimit.policy")
                    {
                        _values[(string)tag.Value!] = value;
                    }
                }
            });
            _listener.Start();
        }

        public long? Read(string policy)
        {
            _values.Clear();
            _listener.RecordObservableInstruments();
            return _values.TryGetValue(policy, out var value) ? value : null;
        }

        public void Dispose() => _listener.Dispose();
    }
}
