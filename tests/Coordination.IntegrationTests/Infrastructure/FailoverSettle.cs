using System.Diagnostics;
using System.Globalization;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// When a failover has settled, for the failover tests' "every call after it succeeds": a second after the later of the
/// new primary's first success and the host's last connection lost or restored, with every connection lost since the
/// kill restored but those to the killed server. The failover goes on after the first success: the sentinels
/// reconfigure the other replica and close its clients, and the client reconnects (one run restored a connection 2.8 s
/// after losing it, and a client reconnecting to a replica may take it for a primary for a moment).
/// </summary>
public sealed class FailoverSettle
{
    private static readonly TimeSpan SettleDelay = TimeSpan.FromSeconds(1);
    private readonly Stopwatch _clock;
    private readonly Lock _gate = new();
    private readonly Dictionary<(int Connection, string Endpoint), bool> _lost = [];
    private readonly List<string> _history = [];
    private TimeSpan _lastConnectionEvent;

    /// <summary>Notes <paramref name="events"/>' connection changes on <paramref name="clock"/> (the load's).</summary>
    public FailoverSettle(ICoordinationEvents events, Stopwatch clock)
    {
        _clock = clock;
        events.ConnectionLost += (_, e) => Note(e, lost: true);
        events.ConnectionRestored += (_, e) => Note(e, lost: false);
    }

    /// <summary>The connection changes seen, on the load's clock, for a failed test's output.</summary>
    public string History
    {
        get
        {
            lock (_gate)
            {
                return string.Join("; ", _history);
            }
        }
    }

    /// <summary>
    /// Waits until the failover has settled and a second more has passed (calls to judge), and returns when it settled.
    /// Connections to <paramref name="killedPort"/> are not waited for: nothing restores them.
    /// </summary>
    public async Task<TimeSpan> WaitUntilSettledAsync(TimeSpan served, int killedPort, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var killedSuffix = ":" + killedPort.ToString(CultureInfo.InvariantCulture);
        var deadline = _clock.Elapsed + timeout;
        while (true)
        {
            TimeSpan lastEvent;
            string[] stillLost;
            lock (_gate)
            {
                lastEvent = _lastConnectionEvent;
                stillLost = [.. _lost.Where(c => c.Value && !c.Key.Endpoint.EndsWith(killedSuffix, StringComparison.Ordinal)).Select(c => c.Key.Endpoint)];
            }

            var settledAt = (served > lastEvent ? served : lastEvent) + SettleDelay;
            if (stillLost.Length == 0 && _clock.Elapsed >= settledAt + SettleDelay)
            {
                return settledAt;
            }

            if (_clock.Elapsed > deadline)
            {
                throw new TimeoutException($"The host's connections were still changing {timeout} after the first success (still lost: {string.Join(", ", stillLost)}; changes: {History}).");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }
    }

    private void Note(ConnectionEventArgs change, bool lost)
    {
        var endpoint = change.Endpoint ?? "unknown";
        lock (_gate)
        {
            _lastConnectionEvent = _clock.Elapsed;
            _lost[(change.ConnectionId, endpoint)] = lost;
            _history.Add(string.Create(CultureInfo.InvariantCulture, $"{_lastConnectionEvent.TotalMilliseconds:F0} ms {(lost ? "lost" : "restored")} {change.ConnectionId}/{endpoint}"));
        }
    }
}
