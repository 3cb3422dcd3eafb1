using StackExchange.Redis;

namespace Coordination;

/// <summary>One multiplexer of the pool with its load counters. The multiplexer is replaced after a stall.</summary>
internal sealed class PooledConnection : IConnectionLoad
{
    private readonly TimeProvider _timeProvider;
    private IConnectionMultiplexer _multiplexer;
    private int _outstanding;
    private int _peakOutstanding;
    private long _operations;
    private long _failures;
    private long _lastHealthyTimestamp;
    private long _lastForcedReconnectTimestamp;
    private int _forcedReconnects;
    private int _reconnecting;
    private double _lastPingMilliseconds = double.NaN;

    public PooledConnection(int id, IConnectionMultiplexer multiplexer, TimeProvider timeProvider)
    {
        Id = id;
        _multiplexer = multiplexer;
        _timeProvider = timeProvider;
        _lastHealthyTimestamp = timeProvider.GetTimestamp();
    }

    public int Id { get; }

    public IConnectionMultiplexer Multiplexer => Volatile.Read(ref _multiplexer);

    public bool IsConnected => Multiplexer.IsConnected;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public long Operations => Interlocked.Read(ref _operations);

    public long Failures => Interlocked.Read(ref _failures);

    public TimeSpan SinceLastHealthy => _timeProvider.GetElapsedTime(Interlocked.Read(ref _lastHealthyTimestamp));

    public void Enter()
    {
        var outstanding = Interlocked.Increment(ref _outstanding);
        Interlocked.Increment(ref _operations);
        var peak = Volatile.Read(ref _peakOutstanding);
        while (outstanding > peak)
        {
            var seen = Interlocked.CompareExchange(ref _peakOutstanding, outstanding, peak);
            if (seen == peak)
            {
                break;
            }

            peak = seen;
        }
    }

    public void Exit(bool failed)
    {
        Interlocked.Decrement(ref _outstanding);
        if (failed)
        {
            Interlocked.Increment(ref _failures);
        }
    }

    /// <summary>Returns the peak in-flight count since the last call and starts a new interval.</summary>
    public int TakePeakOutstanding() => Interlocked.Exchange(ref _peakOutstanding, Outstanding);

    public void MarkHealthy(TimeSpan pingLatency)
    {
        Interlocked.Exchange(ref _lastHealthyTimestamp, _timeProvider.GetTimestamp());
        Volatile.Write(ref _lastPingMilliseconds, pingLatency.TotalMilliseconds);
    }

    /// <summary>Claims the right to replace the multiplexer: one replacement at a time, no more often than <paramref name="minInterval"/>.</summary>
    public bool TryBeginForcedReconnect(TimeSpan minInterval)
    {
        if (Interlocked.CompareExchange(ref _reconnecting, 1, 0) != 0)
        {
            return false;
        }

        var last = Interlocked.Read(ref _lastForcedReconnectTimestamp);
        if (last != 0 && _timeProvider.GetElapsedTime(last) < minInterval)
        {
            Volatile.Write(ref _reconnecting, 0);
            return false;
        }

        Interlocked.Exchange(ref _lastForcedReconnectTimestamp, _timeProvider.GetTimestamp());
        return true;
    }

    /// <summary>Ends a forced reconnect; returns the old multiplexer when <paramref name="replacement"/> took its place.</summary>
    public IConnectionMultiplexer? EndForcedReconnect(IConnectionMultiplexer? replacement)
    {
        IConnectionMultiplexer? old = null;
        if (replacement is not null)
        {
            old = Interlocked.Exchange(ref _multiplexer, replacement);
            Interlocked.Increment(ref _forcedReconnects);
            Interlocked.Exchange(ref _lastHealthyTimestamp, _timeProvider.GetTimestamp());
        }

        Volatile.Write(ref _reconnecting, 0);
        return old;
    }

    public ConnectionStatus ToStatus()
    {
        var multiplexer = Multiplexer;
        var endpoint = multiplexer.GetEndPoints(configuredOnly: true).FirstOrDefault()?.ToString();
        var ping = Volatile.Read(ref _lastPingMilliseconds);
        return new ConnectionStatus(
            Id,
            endpoint,
            multiplexer.IsConnected,
            Outstanding,
            Operations,
            Failures,
            double.IsNaN(ping) ? null : Math.Round(ping, 3),
            Volatile.Read(ref _forcedReconnects));
    }
}
