using Coordination.Core.Tests.TestSupport;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Coordination.Core.Tests.Locks;

/// <summary>The in-process fan-out of release messages: who is woken by one release.</summary>
public sealed class LockWaitersTests : IAsyncDisposable
{
    private readonly UnreachableRedis _redis = UnreachableRedis.Create();
    private readonly LockWaiters _waiters;

    public LockWaitersTests() => _waiters = new LockWaiters(_redis.Pool, "p:lock-released", TimeSpan.FromMilliseconds(200), NullLogger.Instance);

    public async ValueTask DisposeAsync()
    {
        await _waiters.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public void Notify_WakesEveryReaderAndOneOtherWaiter()
    {
        var exclusive1 = _waiters.Register("k", shared: false);
        var reader1 = _waiters.Register("k", shared: true);
        var exclusive2 = _waiters.Register("k", shared: false);
        var reader2 = _waiters.Register("k", shared: true);
        var elsewhere = _waiters.Register("other", shared: false);

        _waiters.Notify("k", 0);

        Assert.Equal([true, true, false, true, false], new[] { exclusive1, reader1, exclusive2, reader2, elsewhere }.Select(w => w.IsSignaled));
        Assert.Equal(2, _waiters.WaitedLocks);

        // The first is still woken (it has not attempted since): the next release wakes the next one.
        _waiters.Notify("k", 0);
        Assert.True(exclusive2.IsSignaled);
    }

    [Fact]
    public void Notify_FairWaiters_OnlyTheHeadOfTheQueue()
    {
        var second = _waiters.Register("k", shared: false);
        second.ArrivalNumber = 2;
        var head = _waiters.Register("k", shared: false);
        head.ArrivalNumber = 1;

        _waiters.Notify("k", 1);

        Assert.True(head.IsSignaled);
        Assert.False(second.IsSignaled);
    }

    [Fact]
    public void Unregister_WokenWaiterLeavingUnused_PassesTheWakeOn()
    {
        var first = _waiters.Register("k", shared: false);
        var second = _waiters.Register("k", shared: false);
        _waiters.Notify("k", 0);

        first.Dispose(passOnWake: true);

        Assert.True(second.IsSignaled);
        second.Dispose(passOnWake: false);
        Assert.Equal(0, _waiters.WaitedLocks);
        _waiters.Notify("k", 0);
    }

    [Fact]
    public async Task Waiter_ResetBeforeAttempt_KeepsWakeThatArrivesAfterwards()
    {
        var waiter = _waiters.Register("k", shared: false);
        var time = new FakeTimeProvider();
        var token = TestContext.Current.CancellationToken;

        // The timeout runs on the fake clock: one millisecond short of it the wait goes on, at it the wait ends.
        var timingOut = waiter.WaitAsync(TimeSpan.FromMilliseconds(10), time, token).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(9));
        Assert.False(timingOut.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(await timingOut.WaitAsync(TimeSpan.FromSeconds(10), token));
        Assert.True(waiter.Signal());
        Assert.False(waiter.Signal());
        Assert.True(await waiter.WaitAsync(TimeSpan.FromSeconds(5), time, token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), token));

        waiter.Reset();
        Assert.False(waiter.IsSignaled);
        var pending = waiter.WaitAsync(TimeSpan.FromSeconds(5), time, token).AsTask();
        waiter.Signal();
        Assert.True(await pending.WaitAsync(TimeSpan.FromSeconds(10), token)); // woken, not timed out: the fake clock stands still
    }

    [Theory]
    [InlineData("7|0|k", true)]
    [InlineData("0|0|k", true)]
    [InlineData("7|0|other", false)]
    [InlineData("garbage", false)]
    [InlineData("7|x|k", false)]
    [InlineData("7|", false)]
    public void OnMessage_ParsesFenceHeadAndKey(string message, bool wakes)
    {
        var waiter = _waiters.Register("k", shared: false);
        var before = _waiters.MessagesReceived;

        _waiters.OnMessage(message);

        Assert.Equal(wakes, waiter.IsSignaled);
        Assert.Equal(before + 1, _waiters.MessagesReceived);
    }

    [Fact]
    public void OnMessage_KeyContainingSeparators_Delivered()
    {
        var waiter = _waiters.Register("p:t:lock:{a|b|c}", shared: false);

        _waiters.OnMessage("12|3|p:t:lock:{a|b|c}");

        Assert.True(waiter.IsSignaled);
    }

    [Fact]
    public async Task EnsureSubscribedAsync_NoConnection_FailsClosed()
    {
        var ex = await Assert.ThrowsAsync<CoordinationUnavailableException>(() => _waiters.EnsureSubscribedAsync(TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(UnavailableReason.ConnectionFailed, ex.Reason);
        Assert.Null(_waiters.SubscribedOn);
    }
}
