namespace Coordination.Core.Tests.Connections;

public class DecorrelatedJitterReconnectPolicyTests
{
    private static readonly TimeSpan Base = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    [Fact]
    public void CurrentDelay_New_IsBase()
    {
        var policy = new DecorrelatedJitterReconnectPolicy(Base, Max);

        Assert.Equal(100, policy.CurrentDelayMilliseconds);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0, 99)]
    [InlineData(3, 50)]
    public void ShouldRetry_BeforeDelayElapsed_FalseAndDelayUnchanged(long retryCount, int elapsedMs)
    {
        var policy = new DecorrelatedJitterReconnectPolicy(Base, Max);

        Assert.False(policy.ShouldRetry(retryCount, elapsedMs));
        Assert.Equal(100, policy.CurrentDelayMilliseconds);
    }

    [Fact]
    public void ShouldRetry_ExactlyAtDelay_True()
    {
        var policy = new DecorrelatedJitterReconnectPolicy(Base, Max);

        Assert.True(policy.ShouldRetry(0, 100));
    }

    [Fact]
    public void ShouldRetry_AfterAGrownDelay_WaitsForTheGrownDelay()
    {
        var policy = new DecorrelatedJitterReconnectPolicy(Base, Max);
        Assert.True(policy.ShouldRetry(0, 100));
        var delay = policy.CurrentDelayMilliseconds;

        Assert.False(policy.ShouldRetry(1, (int)Math.Floor(delay) - 1));
        Assert.Equal(delay, policy.CurrentDelayMilliseconds);
        Assert.True(policy.ShouldRetry(1, (int)Math.Ceiling(delay)));
    }

    [Fact]
    public void Delays_AlwaysWithinBaseAndMax()
    {
        var policy = new DecorrelatedJitterReconnectPolicy(Base, Max);
        for (var retry = 0L; retry < 10_000; retry++)
        {
            var previous = policy.CurrentDelayMilliseconds;
            Assert.True(policy.ShouldRetry(retry + 1, int.MaxValue));
            var delay = policy.CurrentDelayMilliseconds;

            Assert.InRange(delay, 100, 5_000);

            // Decorrelated jitter: never more than three times the previous delay.
            Assert.True(delay <= Math.Max(100, previous * 3) + 1e-9, $"{delay} after {previous}");
        }
    }

    [Fact]
    public void Delays_GrowFromBaseOnAverage()
    {
        // The first grown delay is uniform in [base, 3 x base]: its mean over many policies is 2 x base.
        // 2,000 samples put the mean within a few percent of that; 150 ms is a bound that never flakes.
        var sum = 0.0;
        const int samples = 2_000;
        for (var i = 0; i < samples; i++)
        {
            var policy = new DecorrelatedJitterReconnectPolicy(Base, Max);
            policy.ShouldRetry(0, int.MaxValue);
            sum += policy.CurrentDelayMilliseconds;
        }

        Assert.InRange(sum / samples, 150, 250);
    }

    [Fact]
    public void Delays_ReachTheCap()
    {
        var policy = new DecorrelatedJitterReconnectPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(1_000));
        var reached = false;
        for (var retry = 1L; retry <= 100_000 && !reached; retry++)
        {
            policy.ShouldRetry(retry, int.MaxValue);
            reached = policy.CurrentDelayMilliseconds >= 1_000;
        }

        Assert.True(reached);
        Assert.Equal(1_000, policy.CurrentDelayMilliseconds);
    }

    [Fact]
    public void ShouldRetry_RetryCountZero_ResetsToBase()
    {
        var policy = new DecorrelatedJitterReconnectPolicy(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(1_000));
        for (var retry = 1L; retry <= 100_000 && policy.CurrentDelayMilliseconds < 1_000; retry++)
        {
            policy.ShouldRetry(retry, int.MaxValue);
        }

        Assert.Equal(1_000, policy.CurrentDelayMilliseconds);

        // A new outage (the client starts counting again at 0) must not inherit the old, long delay.
        Assert.False(policy.ShouldRetry(0, 5));
        Assert.Equal(10, policy.CurrentDelayMilliseconds);
        Assert.True(policy.ShouldRetry(0, 10));
    }

    [Fact]
    public void Constructor_MaxBelowBase_UsesBaseAsMax()
    {
        var policy = new DecorrelatedJitterReconnectPolicy(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(50));
        for (var retry = 1L; retry < 100; retry++)
        {
            Assert.True(policy.ShouldRetry(retry, int.MaxValue));
            Assert.Equal(100, policy.CurrentDelayMilliseconds);
        }
    }

    [Fact]
    public async Task ShouldRetry_Concurrent_StaysWithinBounds()
    {
        var policy = new DecorrelatedJitterReconnectPolicy(Base, Max);
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(
            () =>
            {
                for (var i = 1; i < 5_000; i++)
                {
                    policy.ShouldRetry(i, int.MaxValue);
                    Assert.InRange(policy.CurrentDelayMilliseconds, 100, 5_000);
                }
            },
            TestContext.Current.CancellationToken));

        await Task.WhenAll(tasks);
    }
}
