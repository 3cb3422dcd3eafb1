using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Notices when the Redis primaries the pool talks to are not the ones they were: the identity of a primary is its
/// endpoint and run id (<c>INFO server</c>, read by a script), which changes on failover (another server) and on restart (a new run
/// id, and without persistence an empty data set). It is read again whenever a connection comes back, the client
/// sees a configuration change or failover broadcast, or a stalled connection is replaced. Each change starts a
/// new epoch; holds taken in an earlier epoch are reported lost.
/// </summary>
internal sealed class PrimaryWatcher : IDisposable
{
    private readonly RedisConnectionPool _pool;
    private readonly TimeSpan _timeout;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private string? _identity;
    private long _epoch;
    private Task? _baseline;
    private int _checking;
    private int _pending;

    public PrimaryWatcher(RedisConnectionPool pool, TimeSpan timeout, ILogger logger)
    {
        _pool = pool;
        _timeout = timeout;
        _logger = logger;
        _pool.TopologyChanged += OnTopologyChanged;
    }

    /// <summary>Raised with the new epoch when the primaries changed.</summary>
    public event Action<long>? Changed;

    public long Epoch => Interlocked.Read(ref _epoch);

    /// <summary>The identity last read (endpoint=run id, sorted), or <see langword="null"/> before the first read.</summary>
    public string? Identity
    {
        get
        {
            lock (_gate)
            {
                return _identity;
            }
        }
    }

    /// <summary>Reads the identity once, so later changes can be told from the start (a failed read is retried next time).</summary>
    public Task EnsureBaselineAsync()
    {
        if (Identity is not null)
        {
            return Task.CompletedTask;
        }

        lock (_gate)
        {
            if (_baseline is null || _baseline.IsCompleted)
            {
                _baseline = CheckAsync();
            }

            return _baseline;
        }
    }

    /// <summary>
    /// Reads the identity now and starts a new epoch when it changed. Returns the identity read, or
    /// <see langword="null"/> when it could not be read.
    /// </summary>
    public async Task<string?> CheckAsync()
    {
        var identity = await ReadIdentityAsync();
        if (identity is null)
        {
            return null;
        }

        long epoch;
        string? previous;
        lock (_gate)
        {
            previous = _identity;
            if (previous == identity)
            {
                return identity;
            }

            _identity = identity;
            if (previous is null)
            {
                return identity;
            }

            epoch = Interlocked.Increment(ref _epoch);
        }

        LocksLog.PrimaryChanged(_logger, previous, identity);
        Changed?.Invoke(epoch);
        return identity;
    }

    /// <summary>The run ids of an identity read by <see cref="CheckAsync"/>.</summary>
    public static string[] RunIdsOf(string identity) =>
        [.. identity.Split(';').Select(part => part[(part.LastIndexOf('=') + 1)..])];

    public void Dispose() => _pool.TopologyChanged -= OnTopologyChanged;

    // Single flight: events that arrive during a check make it run once more, not once per event.
    private void OnTopologyChanged()
    {
        Interlocked.Exchange(ref _pending, 1);
        if (Interlocked.CompareExchange(ref _checking, 1, 0) == 0)
        {
            _ = Task.Run(RunChecksAsync);
        }
    }

    private async Task RunChecksAsync()
    {
        do
        {
            while (Interlocked.Exchange(ref _pending, 0) == 1)
            {
                await CheckAsync();
            }

            Volatile.Write(ref _checking, 0);
        }
        while (Volatile.Read(ref _pending) == 1 && Interlocked.CompareExchange(ref _checking, 1, 0) == 0);
    }

    private async Task<string?> ReadIdentityAsync()
    {
        try
        {
            var multiplexer = _pool.RentMultiplexer();
            var primaries = multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica).ToArray();
            if (primaries.Length == 0)
            {
                return null;
            }

            var parts = new List<string>(primaries.Length);
            foreach (var server in primaries)
            {
                var runId = await server.ExecuteAsync("EVAL", RedisScript.LockServerIdentity.Source, 0).WaitAsync(_timeout);
                parts.Add($"{server.EndPoint}={runId}");
            }

            parts.Sort(StringComparer.Ordinal);
            return string.Join(';', parts);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or CoordinationUnavailableException or ObjectDisposedException)
        {
            LocksLog.PrimaryCheckFailed(_logger, ex);
            return null;
        }
    }
}
