using System.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// A pool of multiplexers. Each call goes to the connected multiplexer with the fewest operations in flight; the
/// pool grows under load and shrinks when idle, probes every connection with heartbeats and replaces a connection
/// that stays silent while claiming to be connected. Reconnection after a loss is the client's own, paced by
/// <see cref="DecorrelatedJitterReconnectPolicy"/>; callers never trigger reconnects, so failures cannot storm.
/// </summary>
internal sealed partial class RedisConnectionPool : IAsyncDisposable
{
    private readonly ConfigurationOptions _template;
    private readonly ConnectionPoolOptions _options;
    private readonly TimeSpan _attemptTimeout;
    private readonly CoordinationEvents _events;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Action<IConnectionMultiplexer>? _onCreated;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _membershipGate = new();
    private PooledConnection[] _connections = [];
    private int _nextId;
    private long _lightLoadSince = Stopwatch.GetTimestamp();
    private Task _maintenance = Task.CompletedTask;
    private int _disposed;

    public RedisConnectionPool(
        string connectionString,
        ConnectionPoolOptions options,
        ResilienceOptions resilience,
        CoordinationEvents events,
        TimeProvider timeProvider,
        ILogger<RedisConnectionPool> logger,
        Action<IConnectionMultiplexer>? onCreated = null)
    {
        _template = ConfigurationOptions.Parse(connectionString);
        _options = options;
        _attemptTimeout = resilience.AttemptTimeout;
        _events = events;
        _timeProvider = timeProvider;
        _logger = logger;
        _onCreated = onCreated;
    }

    public ConnectionPoolOptions Options => _options;

    public int Size => Volatile.Read(ref _connections).Length;

    public int ConnectedCount => Volatile.Read(ref _connections).Count(c => c.IsConnected);

    public int Outstanding => Volatile.Read(ref _connections).Sum(c => c.Outstanding);

    /// <summary>
    /// Opens the minimum number of connections, waiting at most the connect timeout: a Redis that is late or down
    /// does not fail the host, the connections keep trying in the background.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var opening = Task.WhenAll(Enumerable.Range(0, _options.MinConnections).Select(_ => AddConnectionAsync()));
        try
        {
            await opening.WaitAsync(_options.ConnectTimeout + TimeSpan.FromSeconds(1), cancellationToken);
        }
        catch (TimeoutException ex)
        {
            ConnectionsLog.ConnectDeferred(_logger, ex);
        }

        _maintenance = Task.WhenAll(
            Task.Run(() => RunHeartbeatsAsync(_stopping.Token), CancellationToken.None),
            Task.Run(() => RunScalingAsync(_stopping.Token), CancellationToken.None));
    }

    /// <summary>
    /// The least-loaded connection, counted as running one operation more until the caller calls
    /// <see cref="PooledConnection.Exit"/> (the executor, which runs every call on it).
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">The pool has no connection yet.</exception>
    public PooledConnection Enter()
    {
        var connection = Rent();
        connection.Enter();
        return connection;
    }

    /// <summary>The multiplexer a caller that needs one directly (pub/sub, server commands) should use.</summary>
    public IConnectionMultiplexer RentMultiplexer() => Rent().Multiplexer;

    /// <summary>Every pooled multiplexer, open or reconnecting.</summary>
    public IEnumerable<IConnectionMultiplexer> Multiplexers => Volatile.Read(ref _connections).Select(c => c.Multiplexer);

    /// <summary>
    /// Raised (on a client thread; handlers must be quick) when a connection came back, the client saw the
    /// configuration change (a new primary, a failover broadcast) or a stalled connection was replaced: what the
    /// connections point at may not be what it was.
    /// </summary>
    public event Action? TopologyChanged;

    /// <summary>
    /// Raised (on a client thread; handlers must be quick) when a connection failed, before it is re-established:
    /// whatever it reconnects to may be another server, or the same one after a restart.
    /// </summary>
    public event Action? ConnectionLost;

    /// <summary>Whether <paramref name="multiplexer"/> is still one of the pool's connections (not replaced or closed).</summary>
    public bool Contains(IConnectionMultiplexer multiplexer) =>
        Array.Exists(Volatile.Read(ref _connections), c => ReferenceEquals(c.Multiplexer, multiplexer));

    private void RaiseTopologyChanged()
    {
        if (Volatile.Read(ref _disposed) == 0)
        {
            TopologyChanged?.Invoke();
        }
    }

    public ConnectionPoolStatus GetStatus()
    {
        var connections = Volatile.Read(ref _connections);
        var statuses = connections.Select(c => c.ToStatus()).ToArray();
        return new ConnectionPoolStatus(
            statuses.Length,
            statuses.Count(s => s.Connected),
            statuses.Sum(s => s.Outstanding),
            _options.MinConnections,
            _options.MaxConnections,
            statuses);
    }

    /// <summary>Round trip of a PING on the least-loaded connection, bypassing the resilience pipeline.</summary>
    public async Task<TimeSpan> PingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var connection = Rent();
        return await connection.Multiplexer.GetDatabase().PingAsync().WaitAsync(timeout, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        try
        {
            await _maintenance;
        }
        catch (OperationCanceledException)
        {
        }

        PooledConnection[] connections;
        lock (_membershipGate)
        {
            connections = _connections;
            _connections = [];
        }

        await Task.WhenAll(connections.Select(c => CloseAsync(c.Multiplexer)));
        _stopping.Dispose();
    }

    private PooledConnection Rent()
    {
        var connections = Volatile.Read(ref _connections);
        if (connections.Length == 0)
        {
            throw ExceptionFactory.NoConnection("rent");
        }

        var index = PoolScaler.PickLeastLoaded<PooledConnection>(connections);

        // With nothing connected, the first connection fails the call at once (fail-fast backlog policy).
        return connections[index < 0 ? 0 : index];
    }

    private async Task AddConnectionAsync()
    {
        var id = Interlocked.Increment(ref _nextId);
        var multiplexer = await ConnectAsync(id);
        lock (_membershipGate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                _ = CloseAsync(multiplexer);
                return;
            }

            _connections = [.. _connections, new PooledConnection(id, multiplexer, _timeProvider)];
        }
    }

    private async Task<IConnectionMultiplexer> ConnectAsync(int id)
    {
        var configuration = _template.Clone();
        configuration.AbortOnConnectFail = false;

        // Client exception messages otherwise carry the command and its key into logs.
        configuration.IncludeDetailInExceptions = false;
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        configuration.ConnectTimeout = (int)_options.ConnectTimeout.TotalMilliseconds;
        configuration.AsyncTimeout = (int)Math.Ceiling(_attemptTimeout.TotalMilliseconds);
        configuration.SyncTimeout = configuration.AsyncTimeout;
        configuration.ReconnectRetryPolicy = new DecorrelatedJitterReconnectPolicy(_options.ReconnectBaseDelay, _options.ReconnectMaxDelay);
        // The heartbeat both polls the reconnect policy and expires timed-out commands, so it bounds how late either happens.
        var heartbeat = Math.Min(_attemptTimeout.TotalMilliseconds / 4, _options.ReconnectBaseDelay.TotalMilliseconds * 2);
        configuration.HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Clamp(heartbeat, 50, 1000));
        configuration.ClientName ??= $"coordination-{Environment.ProcessId}-{id}";

        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration);
        multiplexer.ConnectionFailed += (_, args) =>
        {
            if (args.ConnectionType == ConnectionType.Interactive && Volatile.Read(ref _disposed) == 0)
            {
                _events.OnConnectionLost(new ConnectionEventArgs(id, args.EndPoint?.ToString(), args.FailureType.ToString(), args.Exception));
                ConnectionLost?.Invoke();
            }
        };
        multiplexer.ConnectionRestored += (_, args) =>
        {
            if (args.ConnectionType == ConnectionType.Interactive && Volatile.Read(ref _disposed) == 0)
            {
                _events.OnConnectionRestored(new ConnectionEventArgs(id, args.EndPoint?.ToString(), "None", null));
                RaiseTopologyChanged();
            }
        };
        multiplexer.ConfigurationChanged += (_, _) => RaiseTopologyChanged();
        multiplexer.ConfigurationChangedBroadcast += (_, _) => RaiseTopologyChanged();
        _onCreated?.Invoke(multiplexer);
        return multiplexer;
    }

    private static async Task CloseAsync(IConnectionMultiplexer multiplexer)
    {
        try
        {
            await multiplexer.CloseAsync(allowCommandsToComplete: false);
        }
        catch (ObjectDisposedException)
        {
        }
        finally
        {
            await multiplexer.DisposeAsync();
        }
    }
}
