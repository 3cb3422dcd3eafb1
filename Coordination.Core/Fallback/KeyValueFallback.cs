using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Serves key/value calls from PostgreSQL while Redis is unavailable. In normal operation every Redis write is
/// mirrored to PostgreSQL in the background (batched; flushed at shutdown; never awaited by the writer: see
/// <c>KeyValueFallback.Mirror.cs</c>), and expired rows are purged periodically (<c>KeyValueFallback.Purge.cs</c>). When a Redis call fails, the node
/// switches to the fallback: reads come from PostgreSQL, writes go to PostgreSQL marked pending. A recovery loop
/// probes Redis; once it answers, the pending writes are replayed to Redis and the node switches back.
/// </summary>
internal sealed partial class KeyValueFallback : IAsyncDisposable
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
    private Task _purgeLoop = Task.CompletedTask;
    private volatile bool _ready;
    private volatile bool _active;
    private int _fallbackWritesInFlight;
    private TaskCompletionSource? _switching;
    private int _disposed;
    private Exception? _lastStoreFailure;

    public KeyValueFallback(
        NpgsqlDataSource? dataSource,
        FallbackOptions options,
        RedisExecutor executor,
        CoordinationEvents events,
        CoordinationMetrics metrics,
        ILogger<KeyValueFallback> logger,
        IPlatformLocks? platformLocks = null,
        string? keyPrefix = null)
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
            if (platformLocks is not null && keyPrefix is not null)
            {
                _repair = new KeyValueRepair(_store, executor, platformLocks, options, keyPrefix, metrics, logger);
            }
        }

        // Unbounded as a channel: the bounds (writes and bytes) are kept by MirrorAsync, which drops instead of waiting.
        _mirror = Channel.CreateUnbounded<MirrorWrite>(new UnboundedChannelOptions { SingleReader = true });
        metrics.Meter.CreateObservableGauge("coordination.fallback.active", () => IsActive ? 1 : 0, "{state}", "1 while key/value calls are served by the PostgreSQL fallback.");
        metrics.Meter.CreateObservableGauge("coordination.fallback.mirror.backlog", () => MirrorBacklog, "{write}", "Writes waiting to be copied to PostgreSQL.");
        metrics.Meter.CreateObservableGauge("coordination.fallback.mirror.behind", () => MirrorBehind ? 1 : 0, "{state}", "1 while writes dropped from a full mirror queue wait to be reconciled from Redis.");
        _mirrorDropped = metrics.Meter.CreateCounter<long>("coordination.fallback.mirror.dropped", "{write}", "Writes made in Redis not queued for PostgreSQL because the mirror queue was full.");
        _mirrorLag = metrics.Meter.CreateHistogram<double>("coordination.fallback.mirror.lag", "ms", "From a write made in Redis to PostgreSQL committing its copy.");
        _durableTimeouts = metrics.Meter.CreateCounter<long>("coordination.fallback.durable.timeouts", "{write}", "Synchronous writes whose PostgreSQL copy was not committed within Coordination:Fallback:SynchronousTimeout.");
        _purged = metrics.Meter.CreateCounter<long>("coordination.fallback.purged", "{row}", "Expired rows deleted from the PostgreSQL fallback store.");
    }

    /// <summary>Whether a PostgreSQL fallback store is configured.</summary>
    public bool IsConfigured => _store is not null;

    /// <summary>
    /// Whether the fallback takes over a key/value call that failed with <paramref name="failure"/>: when it is
    /// configured and Redis is down, not when Redis is up but at its memory limit (an operator must act there, and
    /// writes replayed to a full Redis would only fail again).
    /// </summary>
    public bool Serves(CoordinationUnavailableException failure) => IsConfigured && failure.Reason != UnavailableReason.OutOfMemory;

    /// <summary>Whether the schema is in place and the store can serve.</summary>
    public bool IsReady => _ready;

    /// <summary>Whether calls are being served by the fallback now.</summary>
    public bool IsActive => _active;

    public Exception? LastStoreFailure => Volatile.Read(ref _lastStoreFailure);

    public Task StartAsync()
    {
        if (_store is null)
        {
            return Task.CompletedTask;
        }

        _migrationLoop = Task.Run(() => MigrateUntilReadyAsync(_stopping.Token));
        _mirrorLoop = Task.Run(() => MirrorAsync(_stopping.Token));
        _purgeLoop = Task.Run(() => PurgeAsync(_stopping.Token));
        StartRepair();
        return Task.CompletedTask;
    }

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

    /// <summary>Writes to PostgreSQL, pending replay, after Redis failed with <paramref name="cause"/> (engages the fallback).</summary>
    public async ValueTask SetAsync(string key, byte[]? value, TimeSpan? timeToLive, string operation, Exception cause, CancellationToken cancellationToken) =>
        await WriteAsync(key, value, timeToLive, operation, cause, cancellationToken);

    /// <summary>
    /// Writes to PostgreSQL, pending replay, while the fallback is active. Returns <see langword="false"/>, having
    /// written nothing, when the node is served by Redis again: the caller then writes to Redis.
    /// </summary>
    public ValueTask<bool> TrySetAsync(string key, byte[]? value, TimeSpan? timeToLive, string operation, CancellationToken cancellationToken) =>
        WriteAsync(key, value, timeToLive, operation, null, cancellationToken);

    private async ValueTask<bool> WriteAsync(string key, byte[]? value, TimeSpan? timeToLive, string operation, Exception? cause, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Counted before looking at the mode (both sides use full fences): the switch back to Redis either sees
            // this write and waits for it, or this write sees the switch and waits for it to end.
            Interlocked.Increment(ref _fallbackWritesInFlight);
            var switching = Volatile.Read(ref _switching);
            if (switching is null && (cause is not null || _active))
            {
                try
                {
                    var store = Engage(operation, cause);
                    _metrics.RecordFallback(operation);
                    if (value is null)
                    {
                        await store.DeletePendingAsync(key, cancellationToken);
                    }
                    else
                    {
                        await store.SetPendingAsync(key, value, timeToLive, cancellationToken);
                    }

                    return true;
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

            Interlocked.Decrement(ref _fallbackWritesInFlight);
            if (switching is null)
            {
                return false;
            }

            await switching.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Writes what is queued for PostgreSQL and stops the background work. Nothing queued is dropped while PostgreSQL answers.</summary>
    public async ValueTask DisposeAsync()
    {
        // Called by the lifetime at stop and again by the container when the host is disposed.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await StopRepairAsync();
        _mirror.Writer.TryComplete();
        try
        {
            await _mirrorLoop.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            FallbackLog.MirrorAbandoned(_logger, MirrorBacklog);
        }

        await _stopping.CancelAsync();
        await Task.WhenAll(_migrationLoop, _recoveryLoop, _purgeLoop).ContinueWith(static _ => { }, TaskScheduler.Default);
        if (_repair is not null)
        {
            await _repair.DisposeAsync();
        }

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
                FallbackLog.FallbackMigrated(_logger, _options.Schema, version);
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                Volatile.Write(ref _lastStoreFailure, ex);
                FallbackLog.FallbackMigrationDeferred(_logger, ex);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }

            await DelayAsync(delay, stopping);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 2, 10_000));
        }
    }

    private async Task RecoverAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            await DelayAsync(_options.RecoveryProbeInterval, stopping);
            // An open circuit is probed too: nothing else calls Redis while writes go to PostgreSQL, and the breaker
            // only lets a probe through (and closes) when a call arrives after its break. Refused probes cost microseconds.
            if (stopping.IsCancellationRequested || _executor.CircuitState is CircuitState.Isolated)
            {
                continue;
            }

            try
            {
                await _executor.ExecuteAsync("fallback.probe", idempotent: false, static (db, _) => db.PingAsync(), 0, stopping);

                // Catch up while writes still go to PostgreSQL: one sweep, so that keys written over and over cannot
                // keep the node on the fallback forever.
                var replayed = await ReplayAsync(catchUp: true, stopping);
                replayed += await SwitchToRedisAsync(stopping);
                _events.OnFallbackRecovered(new FallbackEventArgs("recovery", null, replayed));
                await PurgeOnceAsync(stopping);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (CoordinationUnavailableException ex) when (ex.Reason == UnavailableReason.CircuitOpen)
            {
                // The break is still running: the next probe tries again.
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or NpgsqlException or TimeoutException)
            {
                _active = true;
                FallbackLog.FallbackReplayFailed(_logger, ex);
            }
        }
    }

    /// <summary>
    /// Replays what is left pending while fallback writes wait at a gate, then switches the node to Redis. Without
    /// the gate, a write made in Redis right after the switch could be overwritten by the replay of an older
    /// pending write of the same key. The gate is held only for what was written during the catch-up.
    /// </summary>
    private async Task<int> SwitchToRedisAsync(CancellationToken stopping)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Interlocked.Exchange(ref _switching, gate);
        try
        {
            while (Volatile.Read(ref _fallbackWritesInFlight) > 0)
            {
                await Task.Delay(1, stopping);
            }

            var replayed = await ReplayAsync(catchUp: false, stopping);
            _active = false;
            return replayed;
        }
        finally
        {
            Interlocked.Exchange(ref _switching, null);
            gate.TrySetResult();
        }
    }

    /// <summary>
    /// Replays pending writes, oldest first, until none is left; with <paramref name="catchUp"/>, stops instead at the
    /// first key that was written again after it was replayed in this sweep.
    /// </summary>
    private async Task<int> ReplayAsync(bool catchUp, CancellationToken cancellationToken)
    {
        var replayed = 0;
        var seen = catchUp ? new HashSet<string>(StringComparer.Ordinal) : null;
        while (true)
        {
            var pending = await _store!.ReadPendingAsync(_options.MirrorBatchSize, cancellationToken);
            if (pending.Count == 0)
            {
                return replayed;
            }

            foreach (var write in pending)
            {
                if (seen is not null && !seen.Add(write.Key))
                {
                    return replayed;
                }

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
