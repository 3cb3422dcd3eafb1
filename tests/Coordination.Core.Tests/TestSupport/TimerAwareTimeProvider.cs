using Microsoft.Extensions.Time.Testing;

namespace Coordination.Core.Tests.TestSupport;

/// <summary>
/// A <see cref="FakeTimeProvider"/> that tells a test when code under test has started a timer (a timeout, a delay).
/// Advancing the clock before the timer exists would start it at the advanced time and it would never fire; waiting
/// for it first makes "advance past the timeout" deterministic.
/// </summary>
internal sealed class TimerAwareTimeProvider : FakeTimeProvider
{
    private readonly Lock _gate = new();
    private readonly List<(Func<TimeSpan, bool> DueTime, TaskCompletionSource Created)> _waiters = [];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        lock (_gate)
        {
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].DueTime(dueTime))
                {
                    _waiters[i].Created.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }

        return timer;
    }

    /// <summary>
    /// Completes when a timer whose due time matches <paramref name="dueTime"/> is created from now on. Call it before
    /// the code that starts the timer, and bound the wait (<see cref="Task.WaitAsync(TimeSpan, CancellationToken)"/>).
    /// </summary>
    public Task WhenTimerCreated(Func<TimeSpan, bool> dueTime)
    {
        var created = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _waiters.Add((dueTime, created));
        }

        return created.Task;
    }
}
