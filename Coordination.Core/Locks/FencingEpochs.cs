using System.Data.Common;
using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>
/// The fencing epoch this node issues tokens in: a fencing token is <c>epoch * 2^40 + count</c>, where the count is the
/// lock's Redis counter as before (seeded from Redis's clock in seconds) and the epoch is that of the Redis server
/// life the counter lives on, kept in PostgreSQL (<see cref="FencingEpochStore"/>) by run id. A restart or failover
/// is a new run id, hence a larger epoch, so tokens issued after it are above every token issued before whatever Redis
/// lost. Without the PostgreSQL fallback the epoch is 0 and the tokens are the counts alone.
/// </summary>
/// <remarks>
/// The acquire scripts get the node's epoch base and the run ids it knows, and re-seed a counter of an earlier epoch
/// (or a missing one) after checking with <c>INFO</c> that the server's run id is one of them; an unknown run id is
/// answered back, resolved here and the acquisition tried again. A counter that survived into a new server life with
/// the old epoch (a restart from an older RDB, a failover to a lagging replica) cannot be told from the counter alone,
/// so after a connection fails or the topology changes the node <see cref="Verify">verifies</see> the run id on every
/// acquisition until it has read the servers' identity again and holds the epoch of each of them.
/// </remarks>
internal sealed class FencingEpochs : IDisposable
{
    /// <summary>The count's bits: the epoch is the token divided by 2^40.</summary>
    public const int EpochShift = 40;

    /// <summary>How many run ids a node passes to the scripts at most (one per primary, plus recent lives).</summary>
    private const int MaxRunIds = 16;

    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly FencingEpochStore? _store;
    private readonly PrimaryWatcher _watcher;
    private readonly RedisConnectionPool _pool;
    private readonly ILogger _logger;
    private readonly Counter<long> _changes;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, Task<long>> _resolving = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private volatile EpochState _state = EpochState.Zero;
    private volatile bool _verify;
    private long _generation;
    private bool _verifying;

    public FencingEpochs(FencingEpochStore? store, PrimaryWatcher watcher, RedisConnectionPool pool, CoordinationMetrics metrics, ILogger logger)
    {
        _store = store;
        _watcher = watcher;
        _pool = pool;
        _logger = logger;
        _changes = metrics.Meter.CreateCounter<long>("coordination.lock.fencing.epoch_changes", "{change}", "Fencing epochs adopted by this process (a Redis server life not seen before).");
        metrics.Meter.CreateObservableGauge("coordination.lock.fencing.epoch", () => Current.Epoch, "{epoch}", "The fencing epoch this process issues tokens in (0 without PostgreSQL).");
        if (store is not null)
        {
            // Until the servers' identity has been read and resolved, which server lives the counters belong to is unknown.
            _verify = true;
            _pool.ConnectionLost += OnConnectionEvent;
            _pool.TopologyChanged += OnConnectionEvent;
            StartVerification();
        }
    }

    /// <summary>Whether epochs are kept (the PostgreSQL fallback is configured and enabled).</summary>
    public bool Enabled => _store is not null;

    /// <summary>The epoch, its base and the run ids the node knows, as one consistent snapshot.</summary>
    public EpochState Current => _state;

    /// <summary>Whether the acquire scripts must check the server's run id on every call.</summary>
    public bool Verify => _verify;

    /// <summary>
    /// Resolves the epoch of the server life <paramref name="runId"/> (the acquire script answered that it is not one
    /// the node knows) and adopts it when it is larger than the node's. One PostgreSQL call per run id at a time.
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">PostgreSQL could not be asked: the acquisition fails closed.</exception>
    public async Task ResolveAsync(string runId, CancellationToken cancellationToken)
    {
        Task<long> resolving;
        lock (_gate)
        {
            if (_state.Knows(runId))
            {
                return;
            }

            if (!_resolving.TryGetValue(runId, out resolving!))
            {
                resolving = _store!.GetOrCreateAsync(runId, _stopping.Token);
                _resolving[runId] = resolving;
            }
        }

        long epoch;
        try
        {
            epoch = await resolving.WaitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or InvalidOperationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            LocksLog.FencingEpochUnavailable(_logger, ex);
            throw new CoordinationUnavailableException(
                "The fencing epoch of a Redis server life not seen before (a restart or failover) could not be read from PostgreSQL, so no fencing token above every earlier one can be issued; the acquisition was refused.",
                UnavailableReason.ServerUnavailable,
                ex);
        }
        finally
        {
            lock (_gate)
            {
                if (_resolving.TryGetValue(runId, out var current) && ReferenceEquals(current, resolving) && resolving.IsCompleted)
                {
                    _resolving.Remove(runId);
                }
            }
        }

        Adopt(runId, epoch);
    }

    public void Dispose()
    {
        if (_store is null)
        {
            return;
        }

        _pool.ConnectionLost -= OnConnectionEvent;
        _pool.TopologyChanged -= OnConnectionEvent;
        _stopping.Cancel();
        _stopping.Dispose();
    }

    private void Adopt(string runId, long epoch)
    {
        EpochState previous;
        EpochState next;
        lock (_gate)
        {
            previous = _state;
            if (previous.Knows(runId))
            {
                return;
            }

            var runIds = previous.RunIds.Length < MaxRunIds ? previous.RunIds : previous.RunIds[1..];
            next = EpochState.Of(Math.Max(previous.Epoch, epoch), [.. runIds, runId]);
            _state = next;
        }

        if (next.Epoch != previous.Epoch)
        {
            _changes.Add(1);
            LocksLog.FencingEpochAdopted(_logger, previous.Epoch, next.Epoch, runId);
        }
    }

    /// <summary>Keeps only <paramref name="current"/> (the run ids of the servers now) and the epoch, once all are known.</summary>
    private void KeepOnly(string[] current)
    {
        lock (_gate)
        {
            if (current.All(_state.Knows) && _state.RunIds.Length != current.Length)
            {
                _state = EpochState.Of(_state.Epoch, current);
            }
        }
    }

    private void OnConnectionEvent()
    {
        lock (_gate)
        {
            _generation++;
            _verify = true;
        }

        StartVerification();
    }

    private void StartVerification()
    {
        lock (_gate)
        {
            if (_verifying || _stopping.IsCancellationRequested)
            {
                return;
            }

            _verifying = true;
        }

        _ = Task.Run(VerifyAsync);
    }

    /// <summary>
    /// Reads the servers' identity until a read made after the last connection event succeeded and every run id in
    /// it has its epoch; then acquisitions stop checking the run id.
    /// </summary>
    private async Task VerifyAsync()
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                long generation;
                lock (_gate)
                {
                    generation = _generation;
                }

                if (await TryResolveServersAsync())
                {
                    lock (_gate)
                    {
                        if (generation == _generation)
                        {
                            _verify = false;
                            _verifying = false;
                            return;
                        }
                    }

                    continue;
                }

                await Task.Delay(RetryDelay, _stopping.Token);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        lock (_gate)
        {
            _verifying = false;
        }
    }

    private async Task<bool> TryResolveServersAsync()
    {
        string[] runIds;
        try
        {
            var identity = await _watcher.CheckAsync();
            if (identity is null)
            {
                return false;
            }

            runIds = PrimaryWatcher.RunIdsOf(identity);
            foreach (var runId in runIds)
            {
                await ResolveAsync(runId, _stopping.Token);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stopping.IsCancellationRequested)
        {
            // Acquisitions keep checking the run id meanwhile, and the read is tried again.
            LocksLog.FencingVerificationFailed(_logger, ex);
            return false;
        }

        KeepOnly(runIds);
        return true;
    }

    /// <summary>A node's epoch, its base (epoch * 2^40, exact) and the run ids whose epoch it holds.</summary>
    internal sealed class EpochState
    {
        public static readonly EpochState Zero = Of(0, []);

        private EpochState(long epoch, string[] runIds)
        {
            Epoch = epoch;
            Base = epoch << EpochShift;
            BaseText = Base.ToString(CultureInfo.InvariantCulture);
            RunIds = runIds;
            RunIdsText = string.Join(',', runIds);
        }

        public long Epoch { get; }

        public long Base { get; }

        public string BaseText { get; }

        public string[] RunIds { get; }

        public string RunIdsText { get; }

        public static EpochState Of(long epoch, string[] runIds) => new(epoch, runIds);

        public bool Knows(string runId) => Array.IndexOf(RunIds, runId) >= 0;
    }
}
