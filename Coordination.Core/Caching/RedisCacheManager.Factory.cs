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

        _ = RunFlightAsync(key, flight, () => LoadAsync(key, factory, settings));
        return await flight.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> as the flight <paramref name="flight"/> of <paramref name="key"/>: its result or
    /// failure goes to every caller of the flight, and the flight ends when it does.
    /// </summary>
    private async Task RunFlightAsync<T>(string key, TaskCompletionSource<CacheResult<T>> flight, Func<Task<CacheResult<T>>> work)
    {
        try
        {
            flight.TrySetResult(await work());
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

    /// <summary>The leader's work: Redis, then (under the distributed lock when asked) the factory, with fail-safe.</summary>
    private async Task<CacheResult<T>> LoadAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntrySettings settings)
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
            var compute = ComputeAsync(key, factory, settings);
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

    /// <summary>Calls the factory and writes its result to both levels (best effort for Redis).</summary>
    private async Task<T> ComputeAsync<T>(string key, Func<CancellationToken, ValueTask<T>> factory, CacheEntrySettings settings)
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
        var elapsed = (int)Math.Min(int.MaxValue, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        await WriteAsync(key, value, settings, Math.Max(1, elapsed), throwWhenUnavailable: false, CancellationToken.None);
        return value;
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

        _ = RunFlightAsync(key, flight, async () => new CacheResult<T>(await ComputeAsync(key, factory, settings), CacheSource.Factory));
        flight.Task.LogFailure(_runtime.Logger, CachingLog.RefreshFailed);
    }

    private static string LockName(string key) =>
        Encoding.UTF8.GetByteCount(key) <= MaxLockNameBytes ? "cache:" + key : "cache:#" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
