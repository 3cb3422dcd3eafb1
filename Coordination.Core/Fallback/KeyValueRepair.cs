using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// Puts key/value values back into Redis from the PostgreSQL mirror after Redis lost them (a restart without
/// persistence, a failover to a server that lacked writes, a FLUSHALL).
/// </summary>
/// <remarks>
/// <para><b>Detection.</b> Every node runs kv_durability_check.lua every <see cref="FallbackOptions.LossCheckInterval"/>
/// and at once when a connection comes back or the topology changes. The script keeps a marker hash
/// (<c>{prefix}:#kv-durability</c>: no tenant can be named <c>#...</c>, so no caller's key is it; on a Redis Cluster one
/// per primary, <c>{prefix}:#kv-durability:{tag}</c>) with the run id of the server that wrote it; when a marker is
/// missing or from another run, the script starts a new "life" of the data set with its repair pending. A first start
/// against an empty Redis counts as a loss too: the repair then restores what the mirror holds, which Redis lacks
/// anyway.</para>
/// <para><b>While the repair is pending</b> (as this node last read the marker): a key/value read that misses in Redis
/// reads the mirror row and restores it (kv_restore.lua), and a delete leaves a tombstone in the key's hash slot
/// (kv_delete_tombstoned.lua). The restore writes only when Redis has neither the key nor its tombstone, in one script,
/// so Redis orders it with every write: a set made since the loss is kept (the restore finds the key), a delete made
/// since the loss stays (the restore finds the tombstone, or ran first and the delete removes what it wrote). The
/// tombstone, rather than deleting the mirror row first, is what makes deletes safe: the mirror is written in the
/// background, so a set acknowledged before a delete can reach PostgreSQL after the delete's row was removed (from
/// the same node's queue, or from another node's), and a restore from that row would bring the deleted key back. A node
/// restores on a miss only while its last check is recent (<see cref="Freshness"/>) and leaves tombstones for twice that
/// after it learned the repair ended, so a node that learns of the end later cannot undo a delete made meanwhile.</para>
/// <para><b>Bulk reload.</b> One node at a time (a platform lock, renewed while it runs; a node that dies loses it
/// after <see cref="FallbackOptions.RepairLockTimeToLive"/> and another takes over at its next check) walks the mirror's
/// live rows of its key prefix in key order, <see cref="FallbackOptions.RepairBatchSize"/> at a time and at most
/// <see cref="FallbackOptions.RepairRowsPerSecond"/>, restoring each the same way; then kv_durability_done.lua marks the
/// life repaired unless a newer loss started another one (its reload then starts over).</para>
/// <para><b>Limits.</b> Only missing keys are restored: after a restart from an older snapshot or a failover to a
/// replica holding an older value, that older value is kept. Writes the mirror had not copied when Redis lost them are
/// lost (sets) or undone (deletes), and so are writes made on a node that had not yet seen the loss (at most a check
/// interval). Tombstones live <see cref="TombstoneLifetime"/>. See docs/operations.md, "Repair after Redis data loss".</para>
/// </remarks>
internal sealed class KeyValueRepair : IAsyncDisposable
{
    /// <summary>The platform lock (in <see cref="LockTenant"/>'s platform namespace) held by the node running the bulk reload.</summary>
    public const string LockName = "kv-repair";

    /// <summary>
    /// The tenant segment the reload lock lives under: one for every node of a key prefix, whatever tenants they
    /// serve. A tenant of that name cannot reach it: callers' locks never live in the platform namespace.
    /// </summary>
    public const string LockTenant = "_platform";

    /// <summary>
    /// How long a delete's tombstone keeps a restore away: longer than the mirror takes to copy a write (so a set queued
    /// before the delete has landed and been removed again) and than most reloads, short enough that deletes during a
    /// long repair cost little memory.
    /// </summary>
    public static readonly TimeSpan TombstoneLifetime = TimeSpan.FromMinutes(10);

    private readonly PostgresFallbackStore _store;
    private readonly RedisExecutor _executor;
    private readonly IDistributedLockManager _locks;
    private readonly FallbackOptions _options;
    private readonly string _keyPrefix;
    private readonly RedisKey _marker;
    private readonly ILogger _logger;
    private readonly string _owner = "kv-repair-" + Guid.NewGuid().ToString("N");
    private readonly Counter<long> _losses;
    private readonly Counter<long> _restored;
    private readonly Histogram<double> _duration;
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);
    private readonly SemaphoreSlim _wake = new(0, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _gate = new();
    // Written under _gate; read without it on every key/value miss and delete.
    private volatile FallbackRepairState _state;
    // The markers whose repair is pending, with their lives (one marker, or one per Cluster primary); empty when none
    // is. A reload that began under other lives started before a newer loss.
    private (RedisKey Marker, string Life)[] _pendingLives = [];
    private DateTimeOffset? _lossDetectedAt;
    private long _rowsRestored;
    private long _lastCheckAt;
    private long _idleSince;
    private Task _loop = Task.CompletedTask;
    private Task _reload = Task.CompletedTask;
    private int _stopped;

    public KeyValueRepair(
        PostgresFallbackStore store,
        RedisExecutor executor,
        IPlatformLocks platformLocks,
        FallbackOptions options,
        string keyPrefix,
        CoordinationMetrics metrics,
        ILogger logger)
    {
        _store = store;
        _executor = executor;
        _locks = platformLocks.For(LockTenant);
        _options = options;
        _keyPrefix = keyPrefix;
        _marker = keyPrefix + ":#kv-durability";
        _logger = logger;
        _losses = metrics.Meter.CreateCounter<long>("coordination.fallback.repair.losses", "{loss}", "Losses of Redis's key/value data this node detected (restart without persistence, failover, FLUSHALL).");
        _restored = metrics.Meter.CreateCounter<long>("coordination.fallback.repair.restored", "{key}", "Values put back into Redis from the PostgreSQL mirror after a loss, by source (reload or read).");
        _duration = metrics.Meter.CreateHistogram<double>("coordination.fallback.repair.duration", "s", "Duration of completed bulk reloads from the PostgreSQL mirror after a loss.");
        metrics.Meter.CreateObservableGauge("coordination.fallback.repair.active", () => IsRepairing ? 1 : 0, "{state}", "1 while a repair after a loss of Redis's key/value data is pending or running, as this node knows.");
    }

    /// <summary>Whether a repair is pending as this node last read the marker.</summary>
    public bool IsRepairing => _state != FallbackRepairState.Idle;

    /// <summary>
    /// Whether a miss may be restored from the mirror: a repair is pending, as read by a check recent enough that
    /// every node that learned of the end of the repair since still leaves tombstones (<see cref="LeavesTombstones"/>).
    /// </summary>
    private bool RestoresOnMiss => _state != FallbackRepairState.Idle && Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastCheckAt)) < Freshness;

    /// <summary>
    /// Whether deletes leave tombstones: while a repair is pending, and for twice <see cref="Freshness"/> after this
    /// node learned it ended, so that a node that has not learned it yet (and may still restore on a miss for up to
    /// <see cref="Freshness"/>) cannot bring back a key deleted here.
    /// </summary>
    private bool LeavesTombstones
    {
        get
        {
            if (_state != FallbackRepairState.Idle)
            {
                return true;
            }

            var idleSince = Interlocked.Read(ref _idleSince);
            return idleSince != 0 && Stopwatch.GetElapsedTime(idleSince) < 2 * Freshness;
        }
    }

    /// <summary>How old the last check may be for a node to restore on a miss: two intervals and the time a check takes.</summary>
    private TimeSpan Freshness => 2 * _options.LossCheckInterval + TimeSpan.FromMilliseconds(500);

    public FallbackRepairStatus Status
    {
        get
        {
            lock (_gate)
            {
                return new FallbackRepairStatus(_state, _lossDetectedAt, Interlocked.Read(ref _rowsRestored));
            }
        }
    }

    /// <summary>Starts the checks; each runs only while <paramref name="canCheck"/> says Redis should answer.</summary>
    public void Start(Func<bool> canCheck)
    {
        _executor.Pool.TopologyChanged += Wake;
        _loop = Task.Run(() => CheckEveryIntervalAsync(canCheck, _stopping.Token));
    }

    /// <summary>Stops the checks and a running reload (its lock released). Idempotent.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _executor.Pool.TopologyChanged -= Wake;
        await _stopping.CancelAsync();
        var stopped = Task.WhenAll(_loop, Volatile.Read(ref _reload)).ContinueWith(static _ => { }, TaskScheduler.Default);
        // Bounded: a check or reload that does not end (seen once in a few stops after a Redis pause, not explained
        // yet) must not hold the host's shutdown; what it was doing is repeated by the next node's check.
        if (await Task.WhenAny(stopped, Task.Delay(StopTimeout)) != stopped)
        {
            FallbackLog.RepairStopTimedOut(_logger, StopTimeout);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stopping.Dispose();
        _wake.Dispose();
    }

    /// <summary>
    /// After a read of <paramref name="key"/> missed in Redis: while a repair is pending, restores the mirror's value
    /// (unless Redis got a write of the key meanwhile) and answers what Redis holds then. PostgreSQL failing reads as a
    /// miss (logged): the read is no worse than without the repair.
    /// </summary>
    public async ValueTask<(bool Found, byte[]? Value, TimeSpan? TimeToLive)> ReadThroughAsync(string key, CancellationToken cancellationToken)
    {
        if (!RestoresOnMiss)
        {
            return (false, null, null);
        }

        MirroredValue row;
        try
        {
            var (found, value, ttl) = await _store.GetAsync(key, cancellationToken);
            if (!found)
            {
                return (false, null, null);
            }

            row = new MirroredValue(key, value!, ttl);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            FallbackLog.RepairReadFailed(_logger, ex);
            return (false, null, null);
        }

        if (!RestoresOnMiss)
        {
            // The repair ended while PostgreSQL answered: deleters may have stopped leaving tombstones.
            return (false, null, null);
        }

        var (current, pttl, restored) = await RestoreAsync(row, cancellationToken);
        if (restored)
        {
            Restored(1, "read");
        }

        return current.IsNull ? (false, null, null) : (true, (byte[])current!, pttl >= 0 ? TimeSpan.FromMilliseconds(pttl) : null);
    }

    /// <summary>Deletes <paramref name="key"/> in Redis; while a repair is pending (and a while after), leaves its tombstone too.</summary>
    public ValueTask<bool> DeleteAsync(string key, CancellationToken cancellationToken)
    {
        if (!LeavesTombstones)
        {
            return _executor.ExecuteAsync("kv.delete", idempotent: true, static (db, k) => db.KeyDeleteAsync(k), (RedisKey)key, cancellationToken);
        }

        return DeleteTombstonedAsync(key, cancellationToken);
    }

    /// <summary>
    /// The tombstone of <paramref name="key"/>: in the key's hash slot (a tag chosen for that slot, since the key may
    /// carry a tag of its own), under the marker's reserved segment, and named by a hash of the key so that it never
    /// matches the mirror's <c>{prefix}:*:kv:*</c> scan.
    /// </summary>
    public static RedisKey TombstoneKey(string keyPrefix, string key) =>
        string.Concat(
            keyPrefix,
            ":#kv-deleted:{",
            HashSlot.TagFor(HashSlot.Of(key)),
            "}:",
            Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))));

    private async ValueTask<bool> DeleteTombstonedAsync(string key, CancellationToken cancellationToken)
    {
        var existed = await _executor.ExecuteAsync(
            "kv.delete",
            idempotent: true,
            static (db, s) => RedisScript.KeyDeleteTombstoned.EvaluateByShaAsync(db, [s.Key, s.Tombstone], [s.Lifetime]),
            (Key: (RedisKey)key, Tombstone: TombstoneKey(_keyPrefix, key), Lifetime: (long)TombstoneLifetime.TotalMilliseconds),
            cancellationToken);
        return (long)existed == 1;
    }

    private void Wake()
    {
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // A check is already due.
        }
    }

    private async Task CheckEveryIntervalAsync(Func<bool> canCheck, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await _wake.WaitAsync(_options.LossCheckInterval, stopping);
                // An open circuit is tried too (the call is refused at once until the break ends): the breaker only
                // closes when a call arrives after its break, and nothing else may call Redis now.
                if (canCheck() && _executor.CircuitState is not CircuitState.Isolated)
                {
                    await CheckAsync(stopping);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or RedisException or TimeoutException or OperationCanceledException)
            {
                FallbackLog.LossCheckFailed(_logger, ex);
            }
        }
    }

    /// <summary>
    /// The markers to check: on a Redis Cluster one per primary, in the lowest slot it serves, so that a loss of any
    /// shard is seen (a slot moved to another primary by resharding reads as a loss: a reload that restores nothing);
    /// otherwise, or while the client knows no cluster configuration yet, the one marker.
    /// </summary>
    private RedisKey[] Markers()
    {
        var configuration = HashSlot.KnownConfiguration(_executor.Pool.RentMultiplexer());
        if (configuration is null)
        {
            return [_marker];
        }

        RedisKey[] markers =
        [
            .. configuration.Nodes
                .Where(static n => !n.IsReplica && n.Slots.Count > 0)
                .Select(static n => n.Slots.Min(static r => r.From))
                .Order()
                .Select(slot => (RedisKey)string.Concat(_marker, ":{", HashSlot.TagFor(slot), "}")),
        ];
        return markers.Length == 0 ? [_marker] : markers;
    }

    /// <summary>Reads (and, after a loss, rewrites) the markers; while a repair is pending, competes to run the reload.</summary>
    private async Task CheckAsync(CancellationToken cancellationToken)
    {
        var markers = Markers();
        var answers = await Task.WhenAll(markers.Select(marker => _executor.ExecuteAsync(
            "fallback.loss-check",
            marker,
            idempotent: true,
            static (db, s) => RedisScript.DurabilityCheck.EvaluateByShaAsync(db, [s.Marker], [s.Life]),
            (Marker: marker, Life: Guid.NewGuid().ToString("N")),
            cancellationToken).AsTask()));
        var pending = new List<(RedisKey Marker, string Life)>();
        DateTimeOffset? since = null;
        for (var i = 0; i < markers.Length; i++)
        {
            var parts = (RedisResult[])answers[i]!;
            var state = (string?)parts[0];
            var markerLife = (string?)parts[1];
            DateTimeOffset? markerSince = parts[2].IsNull ? null : DateTimeOffset.FromUnixTimeMilliseconds(long.Parse((string)parts[2]!, CultureInfo.InvariantCulture));
            if (state == "changed")
            {
                _losses.Add(1);
                FallbackLog.RedisDataLost(_logger, markerSince);
            }

            if (state is "changed" or "pending" && markerLife is not null)
            {
                pending.Add((markers[i], markerLife));
            }

            if (markerSince > since || since is null)
            {
                since = markerSince;
            }
        }

        if (pending.Count > 0)
        {
            lock (_gate)
            {
                Interlocked.Exchange(ref _lastCheckAt, Stopwatch.GetTimestamp());
                _pendingLives = [.. pending];
                _lossDetectedAt = since;
                if (_state == FallbackRepairState.Idle)
                {
                    _state = FallbackRepairState.Pending;
                }
            }

            if (Volatile.Read(ref _reload).IsCompleted)
            {
                await TryLeadAsync(cancellationToken);
            }

            return;
        }

        lock (_gate)
        {
            // Done (by this node or another).
            Interlocked.Exchange(ref _lastCheckAt, Stopwatch.GetTimestamp());
            _pendingLives = [];
            _lossDetectedAt = since ?? _lossDetectedAt;
            BecomeIdle();
        }
    }

    private async Task TryLeadAsync(CancellationToken cancellationToken)
    {
        var hold = await _locks.TryAcquireAsync(
            LockName,
            new LockOptions { TimeToLive = _options.RepairLockTimeToLive, AutoRenew = true, Owner = _owner },
            cancellationToken);
        if (hold is not null)
        {
            Volatile.Write(ref _reload, Task.Run(() => ReloadAsync(hold, _stopping.Token), CancellationToken.None));
        }
    }

    /// <summary>Runs the bulk reload while this node holds the lock, until a life is marked repaired.</summary>
    private async Task ReloadAsync(ILockHandle hold, CancellationToken stopping)
    {
        using var abort = CancellationTokenSource.CreateLinkedTokenSource(stopping, hold.HandleLost);
        try
        {
            while (true)
            {
                (RedisKey Marker, string Life)[] lives;
                lock (_gate)
                {
                    if (_state == FallbackRepairState.Idle || _pendingLives.Length == 0)
                    {
                        return;
                    }

                    lives = _pendingLives;
                    _state = FallbackRepairState.Running;
                }

                FallbackLog.RepairStarted(_logger);
                var started = Stopwatch.GetTimestamp();
                var outcome = await ReloadLifeAsync(lives, abort.Token);
                if (outcome is not { } counts)
                {
                    continue;
                }

                var marked = await Task.WhenAll(lives.Select(pending => _executor.ExecuteAsync(
                    "fallback.repair-done",
                    pending.Marker,
                    idempotent: true,
                    static (db, s) => RedisScript.DurabilityDone.EvaluateByShaAsync(db, [s.Marker], [s.Life]),
                    pending,
                    abort.Token).AsTask()));
                if (marked.All(static m => (long)m == 1))
                {
                    var elapsed = Stopwatch.GetElapsedTime(started);
                    _duration.Record(elapsed.TotalSeconds);
                    FallbackLog.RepairCompleted(_logger, counts.Restored, counts.Visited, elapsed.TotalSeconds);
                    lock (_gate)
                    {
                        if (_pendingLives.SequenceEqual(lives))
                        {
                            BecomeIdle();
                        }
                    }

                    return;
                }

                // Redis lost its data again during the reload: learn the new life and start over.
                await CheckAsync(abort.Token);
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Stopping, or the lock was lost: another node (or this one, at a later check) takes over.
        }
        catch (Exception ex) when (ex is CoordinationUnavailableException or RedisException or NpgsqlException or TimeoutException)
        {
            FallbackLog.RepairFailed(_logger, ex);
        }
        finally
        {
            lock (_gate)
            {
                if (_state == FallbackRepairState.Running)
                {
                    _state = FallbackRepairState.Pending;
                }
            }

            await hold.DisposeAsync();
        }
    }

    /// <summary>
    /// Walks the mirror's live rows of this key prefix and restores each; answers the rows restored and visited, or
    /// <see langword="null"/> when the walk stopped because the life changed (a new loss) or was repaired elsewhere.
    /// </summary>
    private async Task<(long Restored, long Visited)?> ReloadLifeAsync((RedisKey Marker, string Life)[] lives, CancellationToken cancellationToken)
    {
        long restored = 0;
        long visited = 0;
        var after = string.Empty;
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            lock (_gate)
            {
                if (!_pendingLives.SequenceEqual(lives) || _state == FallbackRepairState.Idle)
                {
                    return null;
                }
            }

            var rows = await _store.ReadLiveAsync(after, _keyPrefix + ":", _options.RepairBatchSize, cancellationToken);
            if (rows.Count == 0)
            {
                return (restored, visited);
            }

            var results = await Task.WhenAll(rows.Select(row => RestoreAsync(row, cancellationToken).AsTask()));
            var batchRestored = results.Count(static r => r.Restored);
            Restored(batchRestored, "reload");
            restored += batchRestored;
            visited += rows.Count;
            after = rows[^1].Key;

            // Paced by rows visited (each costs a Redis call): the reload must not crowd out the callers' traffic.
            var ahead = TimeSpan.FromSeconds((double)visited / _options.RepairRowsPerSecond) - Stopwatch.GetElapsedTime(started);
            if (ahead > TimeSpan.Zero)
            {
                await Task.Delay(ahead, cancellationToken);
            }

            if (rows.Count < _options.RepairBatchSize)
            {
                return (restored, visited);
            }
        }
    }

    private async ValueTask<(RedisValue Value, long TimeToLive, bool Restored)> RestoreAsync(MirroredValue row, CancellationToken cancellationToken)
    {
        // PostgreSQL's clock decides what is left of the TTL (as for every row of the mirror); a value with less than a
        // millisecond left is not worth restoring.
        long ttl = 0;
        if (row.TimeToLive is { } left)
        {
            ttl = (long)Math.Floor(left.TotalMilliseconds);
            if (ttl <= 0)
            {
                return (RedisValue.Null, -2, false);
            }
        }

        var result = await _executor.ExecuteAsync(
            "fallback.restore",
            idempotent: true,
            static (db, s) => RedisScript.KeyRestore.EvaluateByShaAsync(db, [s.Key, s.Tombstone], [s.Value, s.Ttl]),
            (Key: (RedisKey)row.Key, Tombstone: TombstoneKey(_keyPrefix, row.Key), row.Value, Ttl: ttl),
            cancellationToken);
        var parts = (RedisResult[])result!;
        return ((RedisValue)parts[0], (long)parts[1], (long)parts[2] == 1);
    }

    /// <summary>Called under <see cref="_gate"/>.</summary>
    private void BecomeIdle()
    {
        if (_state != FallbackRepairState.Idle)
        {
            Interlocked.Exchange(ref _idleSince, Stopwatch.GetTimestamp());
            _state = FallbackRepairState.Idle;
        }
    }

    private void Restored(long count, string source)
    {
        if (count == 0)
        {
            return;
        }

        Interlocked.Add(ref _rowsRestored, count);
        _restored.Add(count, new KeyValuePair<string, object?>("coordination.fallback.repair.source", source));
    }
}
