using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Serves key/value calls from PostgreSQL while Redis is unavailable. In normal operation every Redis write is
/// mirrored to PostgreSQL in the background (batched; flushed at shutdown). When a Redis call fails, the node
/// switches to the fallback: reads come from PostgreSQL, writes go to PostgreSQL marked pending. A recovery loop
/// probes Redis; once it answers, the pending writes are replayed to Redis and the node switches back.
/// </summary>
internal sealed class KeyValueFallback : IAsyncDisposable
{
    private readonly PostgresFallbackStore? _store;
    private readonly FallbackMigrator? _migrator;
    private readonly FallbackOptions _options;
    private readonly RedisExecutor _executor;
    private readonly CoordinationEvents _events;
    private readonly CoordinationMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Channel<MirrorWrite> _mirror;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _modeGate = new();
    private Task _mirrorLoop = Task.CompletedTask;
    private Task _migrationLoop = Task.CompletedTask;
    private Task _recoveryLoop = Task.CompletedTask;
    private volatile bool _ready;
    private volatile bool _active;
    private int _fallbackWritesInFlight;
    private Exception? _lastStoreFailure;

    public KeyValueFallback(
        NpgsqlDataSource? dataSource,
        FallbackOptions options,
        RedisExecutor executor,
        CoordinationEvents events,
        CoordinationMetrics metrics,
        ILogger<KeyValueFallback> logger)
    {
        _options = options;
        _executor = executor;
        _events = events;
        _metrics = metrics;
        _logger = logger;
        if (dataSource is not null && options.Enabled)
        {
            _store = new PostgresFallbackStore(dataSource, options.Schema);
            _migrator = new FallbackMigrator(dataSource, options.Schema);
        }

        _mirror = Channel.CreateBounded<MirrorWrite>(new BoundedChannelOptions(options.MirrorQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>Whether a PostgreSQL fallback store is configured.</summary>
    public bool IsConfigured => _store is not null;

    /// <summary>Whether the schema is in place and the store can serve.</summary>
    public bool IsReady => _ready;

    /// <summary>Whether calls are being served by the fallback now.</summary>
    public bool IsActive => _active;

    public int MirrorBacklog => _mirror.Reader.Count;

    public Exception? LastStoreFailure => Volatile.Read(ref _lastStoreFailure);

    public Task StartAsync()
    {
        if (_store is null)
        {
            return Task.CompletedTask;
        }

        _migrationLoop = Task.Run(() => MigrateUntilReadyAsync(_stopping.Token));
        _mirrorLoop = Task.Run(() => MirrorAsync(_stopping.Token));
        return Task.CompletedTask;
    }

    /// <summary>Queues a write made in Redis for PostgreSQL; waits only when the queue is full.</summary>
    public ValueTask MirrorAsync(string key, byte[]? value, TimeSpan? timeToLive, CancellationToken cancellationToken) =>
        _store is null ? ValueTask.CompletedTask : _mirror.Writer.WriteAsync(new MirrorWrite(key, value, timeToLive), cancellationToken);

    public async ValueTask<(bool Found, byte[]? Value, TimeSpan? TimeToLive)> GetAsync(string key, string operation, Exception? cause, CancellationToken cancellationToken)
    {
        var store = Engage(operation, cause);
        _metrics.RecordFallback(operation);
        try
        {
            return await store.GetAsync(key, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw StoreFailed(operation, cause, ex);
        }
    }

    public async ValueTask SetAsync(string key, byte[]? value, TimeSpan? timeToLive, string operation, Exception? cause, CancellationToken cancellationToken)
    {
        var store = Engage(operation, cause);
        _metrics.RecordFallback(operation);
        Interlocked.Increment(ref _fallbackWritesInFlight);
        try
        {
            if (value is null)
            {
                await store.DeletePendingAsync(key, cancellationToken);
            }
            else
            {
                await store.SetPendingAsync(key, value, timeToLive, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw StoreFailed(operation, cause, ex);
        }
        finally
        {
            Interlocked.Decrement(ref _fallbackWritesInFlight);
        }
    }

    /// <summary>Writes what is queued for PostgreSQL and stops the background work. Nothing queued is dropped while PostgreSQL answers.</summary>
    public async ValueTask DisposeAsync()
    {
        _mirror.Writer.TryComplete();
        try
        {
            await _mirrorLoop.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            CoordinationLog.MirrorAbandoned(_logger, _mirror.Reader.Count);
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_migrationLoop, _recoveryLoop).ContinueWith(static _ => { }, TaskScheduler.Default);
        _stopping.Dispose();
    }

    private PostgresFallbackStore Engage(string operation, Exception? cause)
    {
        if (_store is null || !_ready)
        {
            var reason = _store is null ? "no fallback store is configured" : "the fallback store is not ready";
            throw cause is null
                ? new CoordinationUnavailableException($"'{operation}' cannot be served: {reason}.", UnavailableReason.ConnectionFailed, LastStoreFailure)
                : new CoordinationUnavailableException($"Redis is unavailable for '{operation}' and {reason}.", (cause as CoordinationUnavailableException)?.Reason ?? UnavailableReason.ConnectionFailed, cause);
        }

        if (!_active)
        {
            lock (_modeGate)
            {
                if (!_active)
                {
                    _active = true;
                    _events.OnFallbackEngaged(new FallbackEventArgs(operation, cause));
                    _recoveryLoop = Task.Run(() => RecoverAsync(_stopping.Token));
                }
            }
        }

        return _store;
    }

    private static CoordinationUnavailableException StoreFailed(string operation, Exception? cause, Exception storeFailure) =>
        new($"Redis is unavailable for '{operation}' and the PostgreSQL fallback failed too: {storeFailure.Message} (Redis: {cause?.Message ?? "not tried"})",
            UnavailableReason.ConnectionFailed,
            storeFailure);

    private async Task MigrateUntilReadyAsync(CancellationToken stopping)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var version = await _migrator!.MigrateAsync(stopping);
                _ready = true;
                CoordinationLog.FallbackMigrated(_logger, _options.Schema, version);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                Volatile.Write(ref _lastStoreFailure, ex);
                CoordinationLog.FallbackMigrationDeferred(_logger, ex);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }

            await DelayAsync(delay, stopping);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
        }
    }

    private async Task MirrorAsync(CancellationToken stopping)
    {
        var batch = new List<MirrorWrite>(_options.MirrorBatchSize);
        var reader = _mirror.Reader;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            while (batch.Count < _options.MirrorBatchSize && reader.TryRead(out var write))
            {
                batch.Add(write);
            }

            // A batch is retried until PostgreSQL takes it; at shutdown the retries stop with the host.
            while (batch.Count > 0)
            {
                try
                {
                    if (!_ready)
                    {
                        throw new InvalidOperationException("The fallback schema is not ready yet.");
                    }

                    await _store!.MirrorAsync(batch, CancellationToken.None);
                    batch.Clear();
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    Volatile.Write(ref _lastStoreFailure, ex);
                    CoordinationLog.MirrorFailed(_logger, batch.Count, ex);
                    if (stopping.IsCancellationRequested)
                    {
                        CoordinationLog.MirrorAbandoned(_logger, batch.Count + reader.Count);
                        return;
                    }

                    await DelayAsync(TimeSpan.FromMilliseconds(500), stopping);
                }
            }
        }
    }

    private async Task RecoverAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            await DelayAsync(_options.RecoveryProbeInterval, stopping);
            if (stopping.IsCancellationRequested || _executor.CircuitState is CircuitState.Open or CircuitState.Isolated)
            {
                continue;
            }

            try
            {
                await _executor.ExecuteAsync("fallback.probe", idempotent: false, static (db, _) => db.PingAsync(), 0, stopping);
                var replayed = await ReplayAsync(stopping);
                _active = false;

                // Writes that started on the fallback before the switch are replayed too.
                while (Volatile.Read(ref _fallbackWritesInFlight) > 0 && !stopping.IsCancellationRequested)
                {
                    await Task.Delay(5, stopping);
                }

                replayed += await ReplayAsync(stopping);
                _events.OnFallbackRecovered(new FallbackEventArgs("recovery", null, replayed));
                await _store!.PurgeExpiredAsync(stopping);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or NpgsqlException or TimeoutException)
            {
                _active = true;
                CoordinationLog.FallbackReplayFailed(_logger, ex);
            }
        }
    }

    private async Task<int> ReplayAsync(CancellationToken cancellationToken)
    {
        var replayed = 0;
        while (true)
        {
            var pending = await _store!.ReadPendingAsync(_options.MirrorBatchSize, cancellationToken);
            if (pending.Count == 0)
            {
                return replayed;
            }

            foreach (var write in pending)
            {
                if (write.Value is null || write.Expired)
                {
                    await _executor.ExecuteAsync("fallback.replay", idempotent: true, static (db, key) => db.KeyDeleteAsync(key), (RedisKey)write.Key, cancellationToken);
                }
                else
                {
                    await _executor.ExecuteAsync(
                        "fallback.replay",
                        idempotent: true,
                        static (db, w) => db.StringSetAsync(w.Key, w.Value, w.TimeToLive, When.Always),
                        write,
                        cancellationToken);
                }

                await _store.ClearPendingAsync(write, cancellationToken);
                replayed++;
            }
        }
    }

    private static async Task DelayAsync(TimeSpan delay, CancellationToken stopping)
    {
        try
        {
            await Task.Delay(delay, stopping);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
