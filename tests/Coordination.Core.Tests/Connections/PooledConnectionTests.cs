using System.Net;
using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Core.Tests.Connections;

public class PooledConnectionTests
{
    [Fact]
    public void EnterExit_CountsOutstandingOperationsAndFailures()
    {
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), TimeProvider.System);

        connection.Enter();
        connection.Enter();
        Assert.Equal(2, connection.Outstanding);

        connection.Exit(failed: false);
        connection.Exit(failed: true);

        Assert.Equal(0, connection.Outstanding);
        Assert.Equal(2, connection.Operations);
        Assert.Equal(1, connection.Failures);
    }

    [Fact]
    public void TakePeakOutstanding_ReturnsPeakSinceLastTake_ThenCurrent()
    {
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), TimeProvider.System);
        connection.Enter();
        connection.Enter();
        connection.Enter();
        connection.Exit(failed: false);
        connection.Exit(failed: false);

        Assert.Equal(3, connection.TakePeakOutstanding());

        // The new interval starts at what is still in flight.
        Assert.Equal(1, connection.TakePeakOutstanding());
        connection.Exit(failed: false);
        Assert.Equal(1, connection.TakePeakOutstanding());
        Assert.Equal(0, connection.TakePeakOutstanding());
    }

    [Fact]
    public async Task EnterExit_Concurrent_CountersConsistent()
    {
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), TimeProvider.System);
        const int perWorker = 20_000;
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(
            () =>
            {
                for (var i = 0; i < perWorker; i++)
                {
                    connection.Enter();
                    connection.Exit(failed: i % 10 == 0);
                }
            },
            TestContext.Current.CancellationToken));

        await Task.WhenAll(workers);

        Assert.Equal(0, connection.Outstanding);
        Assert.Equal(4 * perWorker, connection.Operations);
        Assert.Equal(4 * perWorker / 10, connection.Failures);
        Assert.InRange(connection.TakePeakOutstanding(), 1, 4);
    }

    [Fact]
    public void TryBeginForcedReconnect_First_Succeeds()
    {
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), TimeProvider.System);

        Assert.True(connection.TryBeginForcedReconnect(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void TryBeginForcedReconnect_WhileOneIsInProgress_Fails()
    {
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), TimeProvider.System);
        Assert.True(connection.TryBeginForcedReconnect(TimeSpan.Zero));

        Assert.False(connection.TryBeginForcedReconnect(TimeSpan.Zero));
    }

    [Fact]
    public async Task TryBeginForcedReconnect_ManyConcurrentCallers_ExactlyOneWins()
    {
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), TimeProvider.System);
        using var start = new Barrier(8);
        var wins = 0;

        // Dedicated threads: eight callers blocked on a barrier would starve a two-core thread pool.
        var callers = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(
            () =>
            {
                start.SignalAndWait(TestContext.Current.CancellationToken);
                if (connection.TryBeginForcedReconnect(TimeSpan.Zero))
                {
                    Interlocked.Increment(ref wins);
                }
            },
            TestContext.Current.CancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default));

        await Task.WhenAll(callers);

        Assert.Equal(1, wins);
    }

    [Fact]
    public void TryBeginForcedReconnect_SoonAfterPreviousEnded_FailsUntilMinInterval()
    {
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), TimeProvider.System);
        Assert.True(connection.TryBeginForcedReconnect(TimeSpan.FromHours(1)));
        connection.EndForcedReconnect(null);

        Assert.False(connection.TryBeginForcedReconnect(TimeSpan.FromHours(1)));

        // The refusal released the claim: a caller with a shorter interval is not blocked by it.
        Assert.True(connection.TryBeginForcedReconnect(TimeSpan.Zero));
    }

    [Fact]
    public void TryBeginForcedReconnect_AfterMinInterval_SucceedsAgain()
    {
        var time = new FakeTimeProvider();
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), time);
        var interval = TimeSpan.FromMilliseconds(50);
        Assert.True(connection.TryBeginForcedReconnect(interval));
        connection.EndForcedReconnect(null);

        time.Advance(interval - TimeSpan.FromMilliseconds(1));
        Assert.False(connection.TryBeginForcedReconnect(interval));

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(connection.TryBeginForcedReconnect(interval));
    }

    [Fact]
    public void EndForcedReconnect_WithReplacement_SwapsMultiplexerAndReturnsOld()
    {
        var old = FakeMultiplexer.Create();
        var replacement = FakeMultiplexer.Create();
        var time = new FakeTimeProvider();
        var connection = new PooledConnection(7, old, time);
        Assert.True(connection.TryBeginForcedReconnect(TimeSpan.Zero));
        time.Advance(TimeSpan.FromMinutes(1));

        var returned = connection.EndForcedReconnect(replacement);

        Assert.Same(old, returned);
        Assert.Same(replacement, connection.Multiplexer);
        Assert.Equal(1, connection.ToStatus().ForcedReconnects);
        Assert.Equal(TimeSpan.Zero, connection.SinceLastHealthy);
    }

    [Fact]
    public void EndForcedReconnect_WithoutReplacement_KeepsMultiplexer()
    {
        var old = FakeMultiplexer.Create();
        var connection = new PooledConnection(7, old, TimeProvider.System);
        Assert.True(connection.TryBeginForcedReconnect(TimeSpan.Zero));

        Assert.Null(connection.EndForcedReconnect(null));

        Assert.Same(old, connection.Multiplexer);
        Assert.Equal(0, connection.ToStatus().ForcedReconnects);
    }

    [Fact]
    public void IsConnected_FollowsTheMultiplexer()
    {
        var multiplexer = FakeMultiplexer.Create(connected: false);
        var connection = new PooledConnection(1, multiplexer, TimeProvider.System);
        Assert.False(connection.IsConnected);

        FakeMultiplexer.Of(multiplexer).Connected = true;

        Assert.True(connection.IsConnected);
    }

    [Fact]
    public void ToStatus_ReportsCountersEndpointAndPing()
    {
        var multiplexer = FakeMultiplexer.Create();
        FakeMultiplexer.Of(multiplexer).EndPoints = [new DnsEndPoint("redis.local", 6380)];
        var connection = new PooledConnection(3, multiplexer, TimeProvider.System);
        connection.Enter();
        connection.Enter();
        connection.Exit(failed: true);

        var before = connection.ToStatus();
        connection.MarkHealthy(TimeSpan.FromTicks(12_346)); // 1.2346 ms, reported rounded to 3 decimals
        var after = connection.ToStatus();

        Assert.Null(before.LastPingMilliseconds);
        Assert.Equal(new ConnectionStatus(3, "Unspecified/redis.local:6380", Connected: true, Outstanding: 1, Operations: 2, Failures: 1, LastPingMilliseconds: 1.235, ForcedReconnects: 0), after);
    }

    [Fact]
    public void ToStatus_NoEndpoint_ReportsNull()
    {
        var multiplexer = FakeMultiplexer.Create();
        FakeMultiplexer.Of(multiplexer).EndPoints = [];

        Assert.Null(new PooledConnection(1, multiplexer, TimeProvider.System).ToStatus().Endpoint);
    }

    [Fact]
    public void MarkHealthy_ResetsSinceLastHealthy()
    {
        var time = new FakeTimeProvider();
        var connection = new PooledConnection(1, FakeMultiplexer.Create(), time);
        time.Advance(TimeSpan.FromMilliseconds(200));
        Assert.Equal(TimeSpan.FromMilliseconds(200), connection.SinceLastHealthy);

        connection.MarkHealthy(TimeSpan.FromMilliseconds(1));

        Assert.Equal(TimeSpan.Zero, connection.SinceLastHealthy);
        time.Advance(TimeSpan.FromMilliseconds(30));
        Assert.Equal(TimeSpan.FromMilliseconds(30), connection.SinceLastHealthy);
    }
}
