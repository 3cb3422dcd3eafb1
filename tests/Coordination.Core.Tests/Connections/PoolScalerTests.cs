namespace Coordination.Core.Tests.Connections;

public class PoolScalerTests
{
    private static readonly ConnectionPoolOptions Options = new()
    {
        MinConnections = 2,
        MaxConnections = 4,
        GrowThreshold = 10,
        ShrinkAfterIdle = TimeSpan.FromSeconds(60),
    };

    private static PoolLoadSample Sample(int size, int connected, int peak, double lightSeconds = 0) =>
        new(size, connected, peak, TimeSpan.FromSeconds(lightSeconds));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 0)]
    [InlineData(1, 1)]
    public void Decide_BelowMin_Grows(int size, int connected) =>
        Assert.Equal(PoolScaleDecision.Grow, PoolScaler.Decide(Sample(size, connected, peak: 0), Options));

    [Theory]
    [InlineData(2, 20)] // threshold x size
    [InlineData(2, 500)]
    [InlineData(3, 30)]
    public void Decide_PeakAtOrAboveThresholdPerConnection_Grows(int size, int peak) =>
        Assert.Equal(PoolScaleDecision.Grow, PoolScaler.Decide(Sample(size, size, peak), Options));

    [Theory]
    [InlineData(2, 19)]
    [InlineData(3, 29)]
    public void Decide_PeakJustBelowThreshold_DoesNothing(int size, int peak) =>
        Assert.Equal(PoolScaleDecision.None, PoolScaler.Decide(Sample(size, size, peak), Options));

    [Fact]
    public void Decide_AtMax_NeverGrows() =>
        Assert.Equal(PoolScaleDecision.None, PoolScaler.Decide(Sample(4, 4, int.MaxValue), Options));

    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 0)]
    [InlineData(3, 2)]
    public void Decide_SomeConnectionDown_DoesNotGrow(int size, int connected) =>
        Assert.Equal(PoolScaleDecision.None, PoolScaler.Decide(Sample(size, connected, peak: 1_000), Options));

    [Fact]
    public void Decide_LightLongEnoughAboveMin_Shrinks() =>
        Assert.Equal(PoolScaleDecision.Shrink, PoolScaler.Decide(Sample(3, 3, peak: 0, lightSeconds: 60), Options));

    [Fact]
    public void Decide_LightNotLongEnough_DoesNothing() =>
        Assert.Equal(PoolScaleDecision.None, PoolScaler.Decide(Sample(3, 3, peak: 0, lightSeconds: 59.9), Options));

    [Theory]
    [InlineData(2)]
    [InlineData(1)]
    public void Decide_AtOrBelowMin_NeverShrinks(int size) =>
        Assert.NotEqual(PoolScaleDecision.Shrink, PoolScaler.Decide(Sample(size, size, peak: 0, lightSeconds: 86_400), Options));

    [Fact]
    public void Decide_LargestThresholdAndPool_ComparesExactly()
    {
        var options = new ConnectionPoolOptions { MinConnections = 1, MaxConnections = 64, GrowThreshold = 1_000_000 };

        Assert.Equal(PoolScaleDecision.None, PoolScaler.Decide(Sample(63, 63, 62_999_999), options));
        Assert.Equal(PoolScaleDecision.Grow, PoolScaler.Decide(Sample(63, 63, 63_000_000), options));
    }

    [Fact]
    public void Decide_NeverLeavesMinMaxRange_OverRandomSamples()
    {
        var random = new Random(7);
        for (var i = 0; i < 10_000; i++)
        {
            var size = random.Next(0, 7);
            var sample = Sample(size, random.Next(0, size + 1), random.Next(0, 100), random.Next(0, 120));
            var decision = PoolScaler.Decide(sample, Options);
            var next = size + decision switch { PoolScaleDecision.Grow => 1, PoolScaleDecision.Shrink => -1, _ => 0 };
            if (size >= Options.MinConnections)
            {
                Assert.InRange(next, Options.MinConnections, Math.Max(size, Options.MaxConnections));
            }
            else
            {
                Assert.Equal(PoolScaleDecision.Grow, decision);
            }
        }
    }

    [Theory]
    [InlineData(1, 1_000_000, true)] // a single connection is always "light": there is nothing to shrink to
    [InlineData(0, 0, true)]
    [InlineData(2, 1, true)] // threshold 10 x (2-1) / 4 = 2 (integer division)
    [InlineData(2, 2, false)]
    [InlineData(3, 4, true)] // 10 x 2 / 4 = 5
    [InlineData(3, 5, false)]
    [InlineData(4, 6, true)] // 10 x 3 / 4 = 7
    [InlineData(4, 7, false)]
    public void IsLightLoad_QuarterOfThresholdOnOneConnectionFewer(int size, int peak, bool expected) =>
        Assert.Equal(expected, PoolScaler.IsLightLoad(Sample(size, size, peak), Options));

    private readonly record struct Load(bool IsConnected, int Outstanding) : IConnectionLoad;

    [Fact]
    public void PickLeastLoaded_PicksFewestOutstanding() =>
        Assert.Equal(2, PoolScaler.PickLeastLoaded<Load>([new(true, 5), new(true, 3), new(true, 1), new(true, 2)]));

    [Fact]
    public void PickLeastLoaded_Tie_PicksFirst() =>
        Assert.Equal(1, PoolScaler.PickLeastLoaded<Load>([new(true, 5), new(true, 2), new(true, 2), new(true, 2)]));

    [Fact]
    public void PickLeastLoaded_SkipsDisconnectedEvenWhenIdle() =>
        Assert.Equal(2, PoolScaler.PickLeastLoaded<Load>([new(false, 0), new(false, 0), new(true, 100), new(false, 0)]));

    [Fact]
    public void PickLeastLoaded_NoneConnected_ReturnsMinusOne() =>
        Assert.Equal(-1, PoolScaler.PickLeastLoaded<Load>([new(false, 0), new(false, 3)]));

    [Fact]
    public void PickLeastLoaded_Empty_ReturnsMinusOne() =>
        Assert.Equal(-1, PoolScaler.PickLeastLoaded<Load>([]));
}
