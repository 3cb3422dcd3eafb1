using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Threading.Channels;
using Npgsql;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// The mirror: writes Redis accepted are copied to PostgreSQL in the background. The queue is bounded in writes and
/// in bytes, and a write that finds it full is dropped rather than awaited (Redis already has it; a writer must not
/// wait on PostgreSQL). A drop makes the mirror "behind": the dropped keys are remembered (up to
/// <see cref="FallbackOptions.MirrorQueueCapacity"/> of them, beyond which every key/value key is scanned instead) and,
/// once the queue has drained, re-read from Redis and written to PostgreSQL by the mirror loop itself. Because that loop
/// is the only writer of mirrored rows, a write queued after a reconcile read is applied after it: a reconcile never
/// overwrites a newer mirrored value with an older one.
/// </summary>
internal sealed partial class KeyValueFallback
{
    private const int ScanCount = 1000;
    private const int MaxPrefixes = 16;
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(500);

    private readonly Counter<long> _mirrorDropped;
    private readonly Histogram<double> _mirrorLag;
    private readonly Counter<long> _durableTimeouts;
    private readonly Lock _droppedGate = new();
    private readonly HashSet<string> _droppedPrefixes = new(StringComparer.Ordinal);
    private HashSet<string> _droppedKeys = new(StringComparer.Ordinal);
    private bool _fullReconcile;
    private volatile bool _behind;
    private int _queuedWrites;
    private long _queuedBytes;
    private long _droppedWrites;

    /// <summary>Writes queued or being written to PostgreSQL.</summary>
    public int MirrorBacklog => Volatile.Read(ref _queuedWrites);

    /// <summary>Whether dropped writes wait to be reconciled from Redis.</summary>
    public bool MirrorBehind => _behind;

    /// <summary>Writes dropped from a full mirror queue since the start.</summary>
    public long MirrorDroppedWrites => Interlocked.Read(ref _droppedWrites);

    /// <summary>Queues a write made in Redis for PostgreSQL. Never waits: a write that finds the queue full is dropped, to be reconciled.</summary>
    public ValueTask MirrorAsync(string key, byte[]? value, TimeSpan? timeToLive, CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            return ValueTask.CompletedTask;
        }

        var write = new MirrorWrite(key, value, timeToLive);
        if (Interlocked.Increment(ref _queuedWrites) > _options.MirrorQueueCapacity)
        {
            Interlocked.Decrement(ref _queuedWrites);
            Drop(key);
        }
        else if (Interlocked.Add(ref _queuedBytes, write.Size) > _options.MirrorQueueMaxBytes)
        {
            Release(write);
            Drop(key);
        }
        else if (!_mirror.Writer.TryWrite(write))
        {
            // Shutting down: the queue is closed.
            Release(write);
            Drop(key);
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Queues a write made in Redis for PostgreSQL and waits until PostgreSQL committed it
    /// (<see cref="KeyValueDurability.Synchronous"/>). It is never dropped for a full queue: its writer waits, which
    /// bounds such writes by the callers waiting. Through the same queue as the other writes, so it lands after them.
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">PostgreSQL did not commit it within <see cref="FallbackOptions.SynchronousTimeout"/>.</exception>
    public async ValueTask MirrorDurablyAsync(string key, byte[]? value, TimeSpan? timeToLive, string operation, CancellationToken cancellationToken)
    {
        if (_store is null)
        {
            throw ExceptionFactory.NoDurableStore(operation);
        }

        var write = new MirrorWrite(key, value, timeToLive) { Committed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously) };
        Interlocked.Increment(ref _queuedWrites);
        Interlocked.Add(ref _queuedBytes, write.Size);
        if (!_mirror.Writer.TryWrite(write))
        {
            Release(write);
            Drop(key);
            throw ExceptionFactory.DurableCopyNotConfirmed(operation, TimeSpan.Zero, null);
        }

        try
        {
            await write.Committed.Task.WaitAsync(_options.SynchronousTimeout, cancellationToken);
        }
        catch (TimeoutException ex)
        {
            _durableTimeouts.Add(1);
            throw ExceptionFactory.DurableCopyNotConfirmed(operation, _options.SynchronousTimeout, ex);
        }
    }

    private void Release(MirrorWrite write)
    {
        Interlocked.Add(ref _queuedBytes, -write.Size);
        Interlocked.Decrement(ref _queuedWrites);
    }

    private void Drop(string key)
    {
        Interlocked.Increment(ref _droppedWrites);
        _mirrorDropped.Add(1);
        lock (_droppedGate)
        {
            Remember(key);
            if (!_behind)
            {
                _behind = true;
                FallbackLog.MirrorBehind(_logger);
            }
        }
    }

    /// <summary>Adds a key to reconcile; past the bound, switches to a full scan. Called under <see cref="_droppedGate"/>.</summary>
    private void Remember(string key)
    {
        // Keys are {prefix}:{tenant}:kv:{name}; the prefix cannot hold ':' or a glob character.
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && _droppedPrefixes.Count < MaxPrefixes)
        {
            _droppedPrefixes.Add(key[..colon]);
        }

        if (_fullReconcile)
        {
            return;
        }

        if (_droppedKeys.Count < _options.MirrorQueueCapacity || _droppedKeys.Contains(key))
        {
            _droppedKeys.Add(key);
        }
        else
        {
            _fullReconcile = true;
            _droppedKeys.Clear();
        }
    }

    private async Task MirrorAsync(CancellationToken stopping)
    {
        var batch = new List<MirrorWrite>(_options.MirrorBatchSize);
        var reader = _mirror.Reader;
        while (await WaitForWorkAsync(reader, stopping))
        {
            while (reader.TryRead(out var first))
            {
                batch.Add(first);
                while (batch.Count < _options.MirrorBatchSize && reader.TryRead(out var write))
                {
                    batch.Add(write);
                }

                if (!await WriteBatchAsync(batch, stopping))
                {
                    return;
                }
            }

            // The queue has drained: catch up on what was dropped (not while PostgreSQL serves as the primary).
            if (_behind && _ready && !_active && !stopping.IsCancellationRequested)
            {
                await TryReconcileAsync(stopping);
            }
        }
    }

    /// <summary>Waits for queued writes; while a reconcile is due, wakes up after <see cref="RetryDelay"/> anyway. False once the queue is closed and empty.</summary>
    private async Task<bool> WaitForWorkAsync(ChannelReader<MirrorWrite> reader, CancellationToken stopping)
    {
        if (!_behind || stopping.IsCancellationRequested)
        {
            return await reader.WaitToReadAsync(CancellationToken.None);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        timeout.CancelAfter(RetryDelay);
        try
        {
            return await reader.WaitToReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            return !reader.Completion.IsCompleted;
        }
    }

    /// <summary>Writes a batch, retrying until PostgreSQL takes it; false when the host stops first (the batch is abandoned).</summary>
    private async Task<bool> WriteBatchAsync(List<MirrorWrite> batch, CancellationToken stopping)
    {
        while (true)
        {
            try
            {
                if (!_ready)
                {
                    throw new InvalidOperationException("The fallback schema is not ready yet.");
                }

                await _store!.MirrorAsync(batch, CancellationToken.None);
                var committed = Stopwatch.GetTimestamp();
                foreach (var write in batch)
                {
                    Release(write);
                    _mirrorLag.Record(Stopwatch.GetElapsedTime(write.MadeAt, committed).TotalMilliseconds);
                    write.Committed?.TrySetResult();
                }

                batch.Clear();
                return true;
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                Volatile.Write(ref _lastStoreFailure, ex);
                FallbackLog.MirrorFailed(_logger, batch.Count, ex);
                if (stopping.IsCancellationRequested)
                {
                    FallbackLog.MirrorAbandoned(_logger, MirrorBacklog);
                    return false;
                }

                await DelayAsync(RetryDelay, stopping);
            }
        }
    }

    private async Task TryReconcileAsync(CancellationToken stopping)
    {
        HashSet<string> keys;
        bool full;
        string[] prefixes;
        lock (_droppedGate)
        {
            keys = _droppedKeys;
            _droppedKeys = new HashSet<string>(StringComparer.Ordinal);
            full = _fullReconcile;
            _fullReconcile = false;
            prefixes = [.. _droppedPrefixes];
        }

        try
        {
            var reconciled = full ? await ReconcileScanAsync(prefixes, stopping) : await ReconcileKeysAsync([.. keys], stopping);
            lock (_droppedGate)
            {
                // Drops made during the reconcile are left for the next one.
                if (_droppedKeys.Count == 0 && !_fullReconcile)
                {
                    _behind = false;
                }
            }

            FallbackLog.MirrorReconciled(_logger, reconciled, full);
        }
        catch (Exception ex) when (ex is CoordinationUnavailableException or RedisException or NpgsqlException or TimeoutException or OperationCanceledException)
        {
            lock (_droppedGate)
            {
                if (full)
                {
                    _fullReconcile = true;
                    _droppedKeys.Clear();
                }
                else
                {
                    foreach (var key in keys)
                    {
                        Remember(key);
                    }
                }
            }

            if (!stopping.IsCancellationRequested)
            {
                FallbackLog.MirrorReconcileFailed(_logger, ex);
            }
        }
    }

    private async Task<int> ReconcileKeysAsync(string[] keys, CancellationToken stopping)
    {
        for (var start = 0; start < keys.Length; start += _options.MirrorBatchSize)
        {
            await ReconcileChunkAsync(keys[start..Math.Min(keys.Length, start + _options.MirrorBatchSize)], stopping);
        }

        return keys.Length;
    }

    /// <summary>
    /// Reconciles every string key of the key/value capability, <c>{prefix}:*:kv:*</c>, found by SCAN on every primary
    /// (each node of a cluster in turn). A key deleted from Redis is not found this way, so a dropped delete
    /// leaves its row in PostgreSQL until the row expires or the key is written again.
    /// </summary>
    private async Task<int> ReconcileScanAsync(string[] prefixes, CancellationToken stopping)
    {
        var reconciled = 0;
        foreach (var prefix in prefixes)
        {
            await foreach (var keys in RedisScan.PagesAsync(_executor, "fallback.reconcile", prefix + ":*:kv:*", "string", ScanCount, stopping))
            {
                for (var start = 0; start < keys.Length; start += _options.MirrorBatchSize)
                {
                    await ReconcileChunkAsync(keys[start..Math.Min(keys.Length, start + _options.MirrorBatchSize)], stopping);
                }

                reconciled += keys.Length;
            }
        }

        return reconciled;
    }

    /// <summary>Reads the keys' values and TTLs from Redis and writes them to PostgreSQL; a key gone from Redis is deleted there.</summary>
    private async Task ReconcileChunkAsync(string[] keys, CancellationToken stopping)
    {
        var values = await _executor.ExecuteAsync(
            "fallback.reconcile",
            idempotent: true,
            static (db, k) => Task.WhenAll(k.Select(key => db.StringGetWithExpiryAsync(key))),
            keys,
            stopping);
        var writes = new List<MirrorWrite>(keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            writes.Add(new MirrorWrite(keys[i], values[i].Value.IsNull ? null : (byte[])values[i].Value!, values[i].Expiry));
        }

        await _store!.MirrorAsync(writes, stopping);
    }
}
