using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination;

internal sealed partial class RedisConnectionPool
{
    private async Task RunHeartbeatsAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.HeartbeatInterval);
        while (await WaitForTickAsync(timer, stopping))
        {
            var connections = Volatile.Read(ref _connections);
            await Task.WhenAll(connections.Select(c => ProbeAsync(c, stopping)));
        }
    }

    private async Task ProbeAsync(PooledConnection connection, CancellationToken stopping)
    {
        var multiplexer = connection.Multiplexer;
        if (!multiplexer.IsConnected)
        {
            // The client is reconnecting on its own; a forced reconnect would only compete with it.
            return;
        }

        try
        {
            var latency = await multiplexer.GetDatabase().PingAsync().WaitAsync(_options.StallTimeout, stopping);
            connection.MarkHealthy(latency);
            return;
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is TimeoutException or RedisException)
        {
            // Judged below by how long the connection has been silent.
        }

        var silentFor = connection.SinceLastHealthy;
        if (silentFor >= _options.StallTimeout && multiplexer.IsConnected
            && connection.TryBeginForcedReconnect(_options.MinForcedReconnectInterval))
        {
            ConnectionsLog.ConnectionStalled(_logger, connection.Id, (long)silentFor.TotalMilliseconds);
            await ReplaceAsync(connection);
        }
    }

    private async Task ReplaceAsync(PooledConnection connection)
    {
        IConnectionMultiplexer? replacement = null;
        try
        {
            var candidate = await ConnectAsync(connection.Id);
            if (candidate.IsConnected && Volatile.Read(ref _disposed) == 0)
            {
                replacement = candidate;
            }
            else
            {
                // The server itself is silent (paused, overloaded): the old connection recovers when it answers.
                await CloseAsync(candidate);
            }
        }
#pragma warning disable CA1031 // Maintenance must survive any failure; the next heartbeat tries again.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            ConnectionsLog.PoolMaintenanceFailed(_logger, ex);
        }

        var old = connection.EndForcedReconnect(replacement);
        if (old is not null)
        {
            ConnectionsLog.ConnectionReplaced(_logger, connection.Id);
            _events.RecordForcedReconnect();
            await CloseAsync(old);
            RaiseTopologyChanged();
        }
    }

    private async Task RunScalingAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_options.ScaleInterval);
        while (await WaitForTickAsync(timer, stopping))
        {
            try
            {
                await ScaleOnceAsync();
            }
#pragma warning disable CA1031 // Maintenance must survive any failure; the next tick tries again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                ConnectionsLog.PoolMaintenanceFailed(_logger, ex);
            }
        }
    }

    internal async Task ScaleOnceAsync()
    {
        var connections = Volatile.Read(ref _connections);
        var peak = connections.Sum(c => c.TakePeakOutstanding());
        var connected = connections.Count(c => c.IsConnected);
        var sample = new PoolLoadSample(connections.Length, connected, peak, TimeSpan.Zero);
        if (!PoolScaler.IsLightLoad(sample, _options))
        {
            Interlocked.Exchange(ref _lightLoadSince, Stopwatch.GetTimestamp());
        }

        sample = sample with { LightLoadFor = Stopwatch.GetElapsedTime(Interlocked.Read(ref _lightLoadSince)) };
        switch (PoolScaler.Decide(sample, _options))
        {
            case PoolScaleDecision.Grow:
                await AddConnectionAsync();
                ConnectionsLog.PoolGrew(_logger, Size);
                break;
            case PoolScaleDecision.Shrink:
                await RemoveLastConnectionAsync();
                Interlocked.Exchange(ref _lightLoadSince, Stopwatch.GetTimestamp());
                ConnectionsLog.PoolShrank(_logger, Size);
                break;
        }
    }

    private async Task RemoveLastConnectionAsync()
    {
        PooledConnection removed;
        lock (_membershipGate)
        {
            if (_connections.Length <= _options.MinConnections)
            {
                return;
            }

            removed = _connections[^1];
            _connections = _connections[..^1];
        }

        // Operations already routed to it finish before it closes.
        var drainDeadline = Stopwatch.GetTimestamp();
        while (removed.Outstanding > 0 && Stopwatch.GetElapsedTime(drainDeadline) < _options.ConnectTimeout)
        {
            await Task.Delay(10);
        }

        await CloseAsync(removed.Multiplexer);
    }

    private static async Task<bool> WaitForTickAsync(PeriodicTimer timer, CancellationToken stopping)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stopping);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
