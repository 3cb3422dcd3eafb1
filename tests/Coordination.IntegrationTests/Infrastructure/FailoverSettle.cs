using System.Diagnostics;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// When a failover has settled, for the failover tests' "every call after it succeeds": a second after the later of the
/// new primary's first success and the host's last connection lost or restored. The failover goes on after the first
/// success: the sentinels reconfigure the other replica and close its clients, and the client reconnects (one run
/// restored a connection 1.7 s after the election).
/// </summary>
public sealed class FailoverSettle
{
    private static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(1);
    private readonly Stopwatch _clock;
    private long _lastConnectionEventTicks;

    /// <summary>Notes <paramref name="events"/>' connection changes on <paramref name="clock"/> (the load's).</summary>
    public FailoverSettle(ICoordinationEvents events, Stopwatch clock)
    {
        _clock = clock;
        events.ConnectionLost += (_, _) => Interlocked.Exchange(ref _lastConnectionEventTicks, _clock.Elapsed.Ticks);
        events.ConnectionRestored += (_, _) => Interlocked.Exchange(ref _lastConnectionEventTicks, _clock.Elapsed.Ticks);
    }

    /// <summary>Waits until the failover has settled and a second more has passed (calls to judge), and returns when it settled.</summary>
    public async Task<TimeSpan> WaitUntilSettledAsync(TimeSpan served, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = _clock.Elapsed + timeout;
        while (true)
        {
            var lastEvent = TimeSpan.FromTicks(Interlocked.Read(ref _lastConnectionEventTicks));
            var settledAt = (served > lastEvent ? served : lastEvent) + SettleDelay;
            if (_clock.Elapsed >= settledAt + SettleDelay)
            {
                return settledAt;
            }

            if (_clock.Elapsed > deadline)
            {
                throw new TimeoutException($"The host's connections were still changing {timeout} after the first success (last change at {lastEvent}).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }
}
