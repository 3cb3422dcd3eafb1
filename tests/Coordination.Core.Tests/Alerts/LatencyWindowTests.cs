namespace Coordination.Core.Tests.Alerts;

public sealed class LatencyWindowTests
{
    [Fact]
    public void Percentile99_Empty_NoValue() => Assert.Equal((null, 0), new LatencyWindow().Percentile99(0));

    [Fact]
    public void Percentile99_SamplesBeforeTheWindow_Ignored()
    {
        var window = new LatencyWindow();
        window.Record(100, 9);
        window.Record(200, 0.002);

        Assert.Equal((0.002, 1), window.Percentile99(150));
    }

    [Fact]
    public void Record_MoreThanCapacity_KeepsTheNewest()
    {
        var window = new LatencyWindow();
        for (var i = 1; i <= LatencyWindow.Capacity + 10; i++)
        {
            window.Record(i, i <= 10 ? 100 : 0.001);
        }

        Assert.Equal((0.001, LatencyWindow.Capacity), window.Percentile99(0));
    }

    [Fact]
    public async Task Record_Concurrent_CountsEverySampleUpToCapacity()
    {
        var window = new LatencyWindow();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 500; i++)
            {
                window.Record(1000 + i, 0.001);
            }
        }, TestContext.Current.CancellationToken)));

        Assert.Equal(2000, window.Percentile99(0).Samples);
    }
}
