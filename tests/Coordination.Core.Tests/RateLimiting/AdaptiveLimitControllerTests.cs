using System.Diagnostics.Metrics;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Core.Tests.RateLimiting;

public class AdaptiveLimitControllerTests
{
    private static readonly RateLimitPolicy Adaptive = new() { Algorithm = RateLimitAlgorithm.FixedWindow, Limit = 1_000, Period = TimeSpan.FromSeconds(1), Adaptive = true };

    [Theory]
    [InlineData(1.0, true, 0.5)]
    [InlineData(0.5, true, 0.25)]
    [InlineData(0.125, true, 0.1)]
    [InlineData(0.1, true, 0.1)]
    [InlineData(0.1, false, 0.2)]
    [InlineData(0.95, false, 1.0)]
    [InlineData(1.0, false, 1.0)]
    public void Next_DecreasesMultiplicativelyToTheFloor_IncreasesAdditivelyToOne(double factor, bool stressed, double expected) =>
        Assert.Equal(expected, AdaptiveLimitController.Next(factor, stressed, new RateLimitAdaptiveOptions()), 9);

    [Theory]
    [InlineData(0, 0, 0, false)]
    [InlineData(100, 1, 0, false)]
    [InlineData(100, 2, 0, true)]
    [InlineData(100, 0, 5, false)]
    [InlineData(100, 0, 6, true)]
    [InlineData(1, 1, 0, true)]
    public void IsStressed_P99OverTheThresholdOrErrorsAboveTheRate(long calls, long slow, long failed, bool expected) =>
        Assert.Equal(expected, AdaptiveLimitController.IsStressed(new RateLimitHealthSample(calls, slow, failed), new RateLimitAdaptiveOptions()));

    [Theory]
    [InlineData(1_000, 0.30000000000000004, 300)]
    [InlineData(1_000, 0.7999999999999999, 800)]
    [InlineData(5, 0.1, 1)]
    [InlineData(7, 0.5, 3)]
    public void Scale_FloorsTheProductAtLeastOne(long limit, double factor, long expected) =>
        Assert.Equal(expected, AdaptiveLimitController.Scale(limit, factor));

    [Fact]
    public void Apply_StressedEachInterval_ShrinksByTheFactorToTheFloor_ThenRecoversAdditivelyToTheLimit()
    {
        var time = new FakeTimeProvider();
        var signal = new ScriptedSignal { Stressed = true };
        using var meter = new Meter("test");
        var controller = new AdaptiveLimitController(new RateLimitAdaptiveOptions(), signal, time, meter);
        var limits = new List<long> { controller.Apply("api", Adaptive).Limit };
        for (var interval = 0; interval < 5; interval++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            limits.Add(controller.Apply("api", Adaptive).Limit);
            limits.Add(controller.Apply("api", Adaptive).Limit);
        }

        Assert.Equal([1_000, 500, 500, 250, 250, 125, 125, 100, 100, 100, 100], limits);

        signal.Stressed = false;
        limits.Clear();
        for (var interval = 0; interval < 10; interval++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            limits.Add(controller.Apply("api", Adaptive).Limit);
        }

        Assert.Equal([200, 300, 400, 500, 600, 700, 800, 900, 1_000, 1_000], limits);
    }

    [Fact]
    public void Apply_BeforeTheIntervalEnds_DoesNotSample()
    {
        var time = new FakeTimeProvider();
        var signal = new ScriptedSignal { Stressed = true };
        using var meter = new Meter("test");
        var controller = new AdaptiveLimitController(new RateLimitAdaptiveOptions(), signal, time, meter);

        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(1_000, controller.Apply("api", Adaptive).Limit);
        Assert.Equal(0, signal.Samples);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(500, controller.Apply("api", Adaptive).Limit);
        Assert.Equal(1, signal.Samples);
    }

    [Fact]
    public void Apply_ScalesTheBurst_LeavesPoliciesThatAreNotAdaptive()
    {
        var time = new FakeTimeProvider();
        using var meter = new Meter("test");
        var controller = new AdaptiveLimitController(new RateLimitAdaptiveOptions(), new ScriptedSignal { Stressed = true }, time, meter);
        var bucket = new RateLimitPolicy { Algorithm = RateLimitAlgorithm.TokenBucket, Limit = 100, Period = TimeSpan.FromSeconds(1), Burst = 400, Adaptive = true };
        var fixedPolicy = Adaptive with { Adaptive = false };

        time.Advance(TimeSpan.FromSeconds(1));
        var scaled = controller.Apply("bucket", bucket);

        Assert.Equal(bucket with { Limit = 50, Burst = 200 }, scaled);
        Assert.Same(fixedPolicy, controller.Apply("fixed", fixedPolicy));
        Assert.Equal(0.5, controller.Factor);
    }

    [Fact]
    public void Gauge_ReportsTheEffectiveLimitPerAdaptivePolicy()
    {
        var time = new FakeTimeProvider();
        using var meter = new Meter("test-gauge");
        var controller = new AdaptiveLimitController(new RateLimitAdaptiveOptions(), new ScriptedSignal { Stressed = true }, time, meter);
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            Assert.Equal("coordination.ratelimit.adaptive.limit", instrument.Name);
            seen[(string)tags.ToArray().Single(t => t.Key == "coordination.ratelimit.policy").Value!] = value;
        });
        listener.Start();

        controller.Apply("api", Adaptive);
        controller.Apply("other", Adaptive with { Adaptive = false });
        time.Advance(TimeSpan.FromSeconds(1));
        controller.Apply("api", Adaptive);
        listener.RecordObservableInstruments();

        Assert.Equal(new Dictionary<string, long> { ["api"] = 500 }, seen);
    }

    private sealed class ScriptedSignal : IRateLimitHealthSignal
    {
        public bool Stressed { get; set; }

        public int Samples { get; private set; }

        public RateLimitHealthSample TakeSample()
        {
            Samples++;
            return Stressed ? new RateLimitHealthSample(100, 50, 0) : new RateLimitHealthSample(100, 0, 0);
        }
    }
}
