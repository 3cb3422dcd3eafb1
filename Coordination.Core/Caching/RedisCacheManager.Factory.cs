using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Coordination;

/// <summary>
/// Get-or-create: single-flight per key in the process (the first caller leads, the others await its task), optional
/// distributed single-flight through a lock, soft/hard factory timeouts, fail-safe and early refresh.
/// </summary>
internal sealed partial class RedisCacheManager
{
    private const int MaxLockNameBytes = 400;
    private readonly ConcurrentDictionary<string, Task> _flights = new(StringComparer.Ordinal);

    // Background writes not landed yet, by key: later writes, removes and invalidations of this node wait for them, so
    // Redis gets this node's operations in the order its callers made them.
    private readonly ConcurrentDictionary<string, Task> _backgroundWrites = new(StringComparer.Ordinal);
    private readonly IDistributedLockManager _locks;

    internal int FlightCount => _flights.Count;

    public ValueTask<CacheResult<T>> GetOrCreateAsync<T>(
        string key,
        Func<CancellationToken, ValueTask<T>> factory,
        CacheEntryOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        CoordinationKey.ValidateName(key, nameof(key));
        ArgumentNullException.ThrowIfNull(factory);
        HotKeys?.Record(key);
        var settings = options is null ? _defaults : _runtime.Settings(options);
        var now = _runtime.NowMs();
        if (_memory.TryGetValue(key, out var item) && Is(item.Value, out T value) && IsFresh(key, item, now))
        {
            item.LastAccess = Environment.TickCount64;
            _runtime.Metrics.MemoryHit();
            if (ShouldRefreshEarly(item.Created, item.Expires, item.ComputeMilliseconds, settings, now))
            {
                StartRefresh(key, factory, settings);
            }

            return new ValueTask<CacheResult<T>>(new CacheResult<T>(value, CacheSource.Memory));
        }

        _runtime.Metrics.MemoryMiss();
        return JoinOrLeadAsync(key, factory, settings, cancellationToken);
    }

    private async ValueTask<CacheResult<T>> JoinOrLeadAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntrySettings settings, CancellationToken cancellationToken)
    {
        var flight = new TaskCompletionSource<CacheResult<T>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var current = _flights.GetOrAdd(key, flight.Task);
        if (!ReferenceEquals(current, flight.Task))
        {
            if (current is Task<CacheResult<T>> running)
            {
                _runtime.Metrics.StampedeSuppressed();
                return await running.WaitAsync(cancellationToken);
            }

            // Another type is being computed under this key: compute on our own.
            return await LoadAsync(key, factory, settings);
        }

        // The leader awaits its work itself (no hop through the flight's completion); the others await the flight.
        var write = new FlightWrite();
        var work = LoadMissAsync(key, factory, settings, write);
        _ = RunFlightAsync(key, flight, work, write);
        return cancellationToken.CanBeCanceled ? await work.WaitAsync(cancellationToken) : await work;
    }

    /// <summary>
    /// Runs <paramref name="work"/> as the flight <paramref name="flight"/> of <paramref name="key"/>: its result or
    /// failure goes to every caller of the flight, and the flight ends when it does, or, when the work left its Redis
    /// write in the background (<paramref name="write"/>), when that write landed: until then callers of this node
    /// join the answered flight rather than miss in Redis and compute again. An invalidation of the key (or of any tag
    /// or prefix) ends an answered flight at once (<see cref="DropAnsweredFlight"/>).
    /// </summary>
    private async Task RunFlightAsync<T>(string key, TaskCompletionSource<CacheResult<T>> flight, Task<CacheResult<T>> work, FlightWrite? write = null)
    {
        try
        {
            flight.TrySetResult(await work);
            if (write?.Pending is { } pending && Epoch(key) == write.Epoch)
            {
                await pending; // Never throws: failures are logged and counted by the write itself.
            }
        }
#pragma warning disable CA1031 // The exception goes to every caller of the flight.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            flight.TrySetException(ex);
            _ = flight.Task.Exception; // Observed: callers that gave up must not leave it unobserved.
        }
        finally
        {
            _flights.TryRemove(new KeyValuePair<string, Task>(key, flight.Task));
        }
    }

    /// <summary>A leader's <see cref="LoadAsync"/>, counted in <see cref="CacheRuntime.MissesInProgress"/> while it runs.</summary>
    private async Task<CacheResult<T>> LoadMissAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntrySettings settings, FlightWrite write)
    {
        _runtime.MissStarted();
        try
        {
            return await LoadAsync(key, factory, settings, write);
        }
        finally
        {
            _runtime.MissEnded();
        }
    }

    /// <summary>
    /// The leader's work: Redis, then (under the distributed lock when asked) the factory, with fail-safe. With
    /// <paramref name="write"/>, the factory's value may be answered before its Redis write landed (not under the lock:
    /// the next holder must find the entry).
    /// </summary>
    private async Task<CacheResult<T>> LoadAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntrySettings settings, FlightWrite? write = null)
    {
        var epoch = Epoch(key);
        var redisAvailable = true;
        StoredEntry? stored = null;
        try
        {
            stored = await ReadAsync(key, _runtime.Stopping, settings.FailSafeWindow);
        }
        catch (CoordinationUnavailableException)
        {
            redisAvailable = false;
        }

        var now = _runtime.NowMs();
        if (stored is { } entry && IsUsable(key, entry.Info, now, allowStale: false))
        {
            _runtime.Metrics.RedisHit();
            var value = Deserialize<T>(entry.Payload, entry.Codec, out var retainedBytes)!;
            Remember(key, value, entry.Info, settings.MemoryTimeToLive, retainedBytes, epoch);
            if (ShouldRefreshEarly(entry.Info.Created, entry.Info.Expires, entry.Info.ComputeMilliseconds, settings, now))
            {
                ComputeAsync(key, factory, settings).LogFailure(_runtime.Logger, CachingLog.RefreshFailed);
            }

            return new CacheResult<T>(value, CacheSource.Redis);
        }

        _runtime.Metrics.RedisMiss();
        var stale = FindStale<T>(key, stored, settings, now);
        ILockHandle? handle = null;
        if (redisAvailable && settings.DistributedSingleFlight)
        {
            try
            {
                handle = await _locks.TryAcquireAsync(LockName(key), new LockOptions { WaitTimeout = _runtime.Options.DistributedSingleFlightWait, AutoRenew = true }, _runtime.Stopping);
            }
            catch (CoordinationException)
            {
                // Without the lock the node computes on its own: a duplicate computation is better than no value.
            }

            if (handle is not null)
            {
                try
                {
                    epoch = Epoch(key);
                    if (await ReadAsync(key, _runtime.Stopping, settings.FailSafeWindow) is { } other && IsUsable(key, other.Info, _runtime.NowMs(), allowStale: false))
                    {
                        // Another node computed it while this one waited.
                        _runtime.Metrics.StampedeSuppressed();
                        var value = Deserialize<T>(other.Payload, other.Codec, out var retainedBytes)!;
                        Remember(key, value, other.Info, settings.MemoryTimeToLive, retainedBytes, epoch);
                        await handle.DisposeAsync();
                        return new CacheResult<T>(value, CacheSource.Redis);
                    }
                }
                catch (CoordinationUnavailableException)
                {
                    // Compute below.
                }
            }
        }

        try
        {
            var compute = ComputeAsync(key, factory, settings, handle is null ? write : null);
            return new CacheResult<T>(await WaitForFactoryAsync(compute, stale is not null, settings), CacheSource.Factory);
        }
        catch (Exception ex) when (stale is { } last && ex is not OperationCanceledException)
        {
            _runtime.Metrics.StaleServed();
            CachingLog.FailSafe(_runtime.Logger, ex is TimeoutException or CacheFactoryTimeoutException ? "the factory timed out" : "the factory failed", ex);
            return new CacheResult<T>(last.Value!, last.Source, isStale: true);
        }
        finally
        {
            if (handle is not null)
            {
                await handle.DisposeAsync();
            }
        }
    }

    private async Task<T> WaitForFactoryAsync<T>(Task<T> compute, bool hasStale, CacheEntrySettings settings)
    {
        var started = _runtime.Time.GetTimestamp();
        if (hasStale && settings.SoftTimeout is { } soft)
        {
            // Throws TimeoutException: the caller serves the stale value and the factory completes in the background.
            try
            {
                return await compute.WaitAsync(soft, _runtime.Time);
            }
            catch (TimeoutException)
            {
                compute.LogFailure(_runtime.Logger, CachingLog.RefreshFailed);
                _runtime.Metrics.FactoryCall("timeout");
                throw;
            }
        }

        if (settings.HardTimeout is { } hard)
        {
            var remaining = hard - _runtime.Time.GetElapsedTime(started);
            try
            {
                return await compute.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, _runtime.Time);
            }
            catch (TimeoutException)
            {
                compute.LogFailure(_runtime.Logger, CachingLog.RefreshFailed);
                _runtime.Metrics.FactoryCall("timeout");
                throw new CacheFactoryTimeoutException(hard);
            }
        }

        return await compute;
    }

    /// <summary>
    /// Calls the factory and writes its result to both levels (best effort for Redis). With <paramref name="write"/>
    /// and a free background slot, returns once the value is in the memory level and leaves the Redis write running
    /// (<see cref="FlightWrite.Pending"/>); past <see cref="CacheOptions.BackgroundWrites"/> pending writes it waits for it.
    /// </summary>
    private async Task<T> ComputeAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntrySettings settings, FlightWrite? write = null)
    {
        CachingLog.FactoryCall(_runtime.Logger, key, Tenant);
        var started = Stopwatch.GetTimestamp();
        T value;
        try
        {
            value = await factory(_runtime.Stopping);
        }
        catch
        {
            _runtime.Metrics.FactoryCall("failure");
            throw;
        }

        _runtime.Metrics.FactoryCall("success");
        var elapsed = Math.Max(1, (int)Math.Min(int.MaxValue, Stopwatch.GetElapsedTime(started).TotalMilliseconds));
        if (write is not null && !_backgroundWrites.ContainsKey(key) && _runtime.TryBeginBackgroundWrite())
        {
            var landed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_backgroundWrites.TryAdd(key, landed.Task))
            {
                _runtime.EndBackgroundWrite();
            }
            else
            {
                PendingWrite pending;
                try
                {
                    pending = BeginWrite(key, value, settings, elapsed);
                }
                catch
                {
                    EndBackgroundWrite(key, landed, succeeded: null);
                    throw;
                }

                // Alone (no other miss of the process under way), the write lingers for company; among others it goes
                // with them on the thread pool's next turn (combining under load needs no delay).
                write.Epoch = pending.Epoch;
                var linger = _runtime.MissesInProgress <= 1;
                write.Pending = linger ? WriteInBackgroundAsync(pending, landed, linger) : Task.Run(() => WriteInBackgroundAsync(pending, landed, linger));
                return value;
            }
        }

        await WriteAsync(key, value, settings, elapsed, throwWhenUnavailable: false, CancellationToken.None);
        return value;
    }

    /// <summary>
    /// A miss's Redis write after its callers were answered (when <paramref name="linger"/>, sent after a short linger
    /// with the other writes of that time: <see cref="CacheWriteCombiner.WriteLaterAsync"/>); holds a background slot and the key's place in
    /// <see cref="_backgroundWrites"/> until it ends.
    /// </summary>
    private async Task WriteInBackgroundAsync(PendingWrite pending, TaskCompletionSource landed, bool linger)
    {
        bool succeeded;
        try
        {
            await CompleteWriteAsync(pending, _runtime.Stopping, later: linger);
            succeeded = true;
        }
#pragma warning disable CA1031 // Nobody awaits the outcome: every failure is logged and counted.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            CachingLog.BackgroundWriteFailed(_runtime.Logger, ex);
            succeeded = false;
        }

        EndBackgroundWrite(pending.Key, landed, succeeded);
    }

    private void EndBackgroundWrite(string key, TaskCompletionSource landed, bool? succeeded)
    {
        _backgroundWrites.TryRemove(new KeyValuePair<string, Task>(key, landed.Task));
        landed.TrySetResult();
        _runtime.EndBackgroundWrite(succeeded);
    }

    /// <summary>Waits for this node's background write of <paramref name="key"/>, if one is pending.</summary>
    private ValueTask WaitForBackgroundWriteAsync(string key, CancellationToken cancellationToken) =>
        !_backgroundWrites.IsEmpty && _backgroundWrites.TryGetValue(key, out var pending) && !pending.IsCompleted
            ? new ValueTask(pending.WaitAsync(cancellationToken))
            : ValueTask.CompletedTask;

    /// <summary>Waits for every background write of this tenant pending now (before a tag or prefix invalidation).</summary>
    private ValueTask WaitForBackgroundWritesAsync(CancellationToken cancellationToken) =>
        _backgroundWrites.IsEmpty ? ValueTask.CompletedTask : new ValueTask(Task.WhenAll(_backgroundWrites.Values).WaitAsync(cancellationToken));

    /// <summary>Ends the flight of <paramref name="key"/> if it is answered and only waits for its Redis write: an invalidation arrived.</summary>
    private void DropAnsweredFlight(string key)
    {
        if (_flights.TryGetValue(key, out var flight) && flight.IsCompleted)
        {
            _flights.TryRemove(new KeyValuePair<string, Task>(key, flight));
        }
    }

    /// <summary>Ends every answered flight of the tenant (a tag, prefix or tenant-wide invalidation arrived).</summary>
    private void DropAnsweredFlights()
    {
        if (_flights.IsEmpty)
        {
            return;
        }

        foreach (var (key, flight) in _flights)
        {
            if (flight.IsCompleted)
            {
                _flights.TryRemove(new KeyValuePair<string, Task>(key, flight));
            }
        }
    }

    /// <summary>The Redis write a flight's work left in the background, and the key's epoch when it began.</summary>
    private sealed class FlightWrite
    {
        public Task? Pending { get; set; }

        public long Epoch { get; set; }
    }

    /// <summary>The last good value for fail-safe: the memory level's, else Redis's, if within its window and not invalidated.</summary>
    private CacheResult<T>? FindStale<T>(string key, StoredEntry? stored, CacheEntrySettings settings, long now)
    {
        if (settings.FailSafeWindow <= 0)
        {
            return null;
        }

        if (_memory.TryGetValue(key, out var item) && Is(item.Value, out T value) && now < item.HardExpires && !IsInvalidated(key, item.Created, item.Tags, now))
        {
            return new CacheResult<T>(value, CacheSource.Memory);
        }

        if (stored is { } entry && IsUsable(key, entry.Info, now, allowStale: true))
        {
            return new CacheResult<T>(Deserialize<T>(entry.Payload, entry.Codec)!, CacheSource.Redis);
        }

        return null;
    }

    private bool ShouldRefreshEarly(long created, long expires, int computeMilliseconds, CacheEntrySettings settings, long now)
    {
        if (settings.EagerRefreshThreshold is { } threshold && now >= created + (long)((expires - created) * threshold))
        {
            return true;
        }

        // XFetch (Vattani et al.): refresh early with a probability that grows as expiry nears and with compute time.
        var beta = _runtime.Options.EarlyRefreshBeta;
        return beta > 0 && computeMilliseconds > 0 && now - (computeMilliseconds * beta * Math.Log(Random.Shared.NextDouble())) >= expires;
    }

    private void StartRefresh<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntrySettings settings)
    {
        var flight = new TaskCompletionSource<CacheResult<T>>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_flights.TryAdd(key, flight.Task))
        {
            return; // Already being computed.
        }

        _ = RunFlightAsync(key, flight, RefreshAsync(key, factory, settings));
        flight.Task.LogFailure(_runtime.Logger, CachingLog.RefreshFailed);
    }

    private async Task<CacheResult<T>> RefreshAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntrySettings settings) =>
        new(await ComputeAsync(key, factory, settings), CacheSource.Factory);

    private static string LockName(string key) =>
        Encoding.UTF8.GetByteCount(key) <= MaxLockNameBytes ? "cache:" + key : "cache:#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
