using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Spaces a connection's reconnect attempts with decorrelated jitter (each delay random between the base and three
/// times the previous one, capped), so that many clients that lost the same server do not come back in lockstep.
/// One instance per connection: the client polls it from its heartbeat.
/// </summary>
internal sealed class DecorrelatedJitterReconnectPolicy : IReconnectRetryPolicy
{
    private readonly double _baseMilliseconds;
    private readonly double _maxMilliseconds;
    private readonly Lock _gate = new();
    private double _currentDelayMilliseconds;

    public DecorrelatedJitterReconnectPolicy(TimeSpan baseDelay, TimeSpan maxDelay)
    {
        _baseMilliseconds = baseDelay.TotalMilliseconds;
        _maxMilliseconds = Math.Max(maxDelay.TotalMilliseconds, _baseMilliseconds);
        _currentDelayMilliseconds = _baseMilliseconds;
    }

    public double CurrentDelayMilliseconds
    {
        get
        {
            lock (_gate)
            {
                return _currentDelayMilliseconds;
            }
        }
    }

    public bool ShouldRetry(long currentRetryCount, int timeElapsedMillisecondsSinceLastRetry)
    {
        lock (_gate)
        {
            if (currentRetryCount == 0)
            {
                _currentDelayMilliseconds = _baseMilliseconds;
            }

            if (timeElapsedMillisecondsSinceLastRetry < _currentDelayMilliseconds)
            {
                return false;
            }

            _currentDelayMilliseconds = NextDelay(_currentDelayMilliseconds);
            return true;
        }
    }

    private double NextDelay(double previous)
    {
        var upper = Math.Max(_baseMilliseconds, previous * 3);
#pragma warning disable CA5394 // Jitter, not security.
        var next = _baseMilliseconds + (Random.Shared.NextDouble() * (upper - _baseMilliseconds));
#pragma warning restore CA5394
        return Math.Min(_maxMilliseconds, next);
    }
}
