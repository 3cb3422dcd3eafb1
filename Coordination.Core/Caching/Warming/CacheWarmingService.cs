using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Runs the registered <see cref="ICacheWarmer"/>s and re-warms hot keys, on one node at a time.
/// </summary>
/// <remarks>
/// <para>Every <see cref="CacheWarmingOptions.HotKeyInterval"/> each node publishes its sampled read counts (keys with a
/// loader only) to the shared hot-key table. The node that holds the warming lock (a platform lock no tenant can name, taken with
/// <see cref="IDistributedLockManager.TryAcquireAsync"/>, renewed in the background, released when the host stops) runs
/// the warmers once when it takes the lock, and at every later interval reloads the hottest keys through their loaders.
/// The others try to take the lock at every interval, so a node that stops or dies is replaced.</para>
/// <para>Failures never stop the service: a failing warmer or key is logged, Redis being unavailable skips a round.</para>
/// </remarks>
internal sealed class CacheWarmingService(
    BackedCache backed,
    RedisCacheManager cache,
    IPlatformLocks platformLocks,
    IEnumerable<ICacheWarmer> warmers,
    IOptions<CacheWarmingOptions> options,
    TimeProvider time,
    ILogger<CacheWarmingService> logger) : BackgroundService
{
    private readonly CacheWarmingOptions _options = options.Value;
    private readonly ICacheWarmer[] _warmers = [.. warmers];

    // In the platform's namespace: a tenant's lock of the same name cannot stop warming.
    private readonly IDistributedLockManager _locks = platformLocks.For(cache.Tenant);
    private readonly string _owner = "cache-warming-" + Guid.NewGuid().ToString("N");
    private HotKeyTracker? _tracker;
    private HotKeyTable? _table;
    private int _warmerRuns;
    private int _hotRounds;

    /// <summary>Whether this node holds the warming lock now.</summary>
    internal bool IsWarmingNode { get; private set; }

    /// <summary>How many times this node ran the warmers.</summary>
    internal int WarmerRuns => Volatile.Read(ref _warmerRuns);

    /// <summary>How many hot-key rounds this node ran as the warming node.</summary>
    internal int HotRounds => Volatile.Read(ref _hotRounds);

    internal TimeSpan LastWarmDuration { get; private set; }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled && _options.HotKeyCount > 0)
        {
            // Here rather than in ExecuteAsync, which may run on the thread pool after the host has started serving:
            // reads from the host's first moments are sampled too.
            var key = CoordinationKey.Build(cache.Runtime.KeyPrefix, cache.Tenant, "cache-hot", string.Empty).TrimEnd(':');
            var keepFor = TimeSpan.FromTicks(Math.Max(TimeSpan.FromMinutes(1).Ticks, _options.HotKeyInterval.Ticks * 10));
            _table = new HotKeyTable(cache.Runtime.Executor, key, keepFor, Math.Max(1000, _options.HotKeyCount * 10));
            _tracker = new HotKeyTracker(_options.SampleRate, _options.TrackedKeys);
            cache.HotKeys = _tracker;
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        ILockHandle? hold = null;
        using var timer = new PeriodicTimer(_options.HotKeyInterval, time);
        try
        {
            do
            {
                hold = await RoundAsync(hold, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
        finally
        {
            if (ReferenceEquals(cache.HotKeys, _tracker))
            {
                cache.HotKeys = null;
            }

            IsWarmingNode = false;
            if (hold is not null)
            {
                // Released at once (not left to expire), so another node takes over at its next interval.
                await hold.DisposeAsync();
            }
        }
    }

    /// <summary>One interval: publish this node's counts; then warm (on taking the lock) or re-warm hot keys (holding it).</summary>
    private async Task<ILockHandle?> RoundAsync(ILockHandle? hold, CancellationToken stoppingToken)
    {
        try
        {
            await PublishAsync(stoppingToken);
            if (hold is not null && hold.HandleLost.IsCancellationRequested)
            {
                CacheWarmingLog.LockLost(logger, _options.LockName);
                IsWarmingNode = false;
                await hold.DisposeAsync();
                hold = null;
            }

            if (hold is null)
            {
                hold = await _locks.TryAcquireAsync(
                    _options.LockName,
                    new LockOptions { TimeToLive = _options.LockTimeToLive, AutoRenew = true, Owner = _owner },
                    stoppingToken);
                if (hold is not null)
                {
                    IsWarmingNode = true;
                    CacheWarmingLog.Leading(logger, _options.LockName);
                    await RunWarmersAsync(hold, stoppingToken);
                }

                return hold;
            }

            await RewarmHotKeysAsync(hold, stoppingToken);
        }
        catch (CoordinationUnavailableException ex)
        {
            CacheWarmingLog.Unavailable(logger, ex);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // The lock was lost during the round: the next round notices and competes again.
        }

        return hold;
    }

    private async Task PublishAsync(CancellationToken cancellationToken)
    {
        if (_tracker is null || _table is null)
        {
            return;
        }

        // Only keys a loader can reload are worth sharing; the counts are scaled back up by the sample rate.
        var counts = _tracker.Drain(_options.HotKeyCount * 2)
            .Where(e => backed.HasLoader(e.Key))
            .Select(e => new KeyValuePair<string, long>(e.Key, e.Value * _tracker.SampleRate))
            .ToArray();
        await _table.PublishAsync(counts, cancellationToken);
    }

    private async Task RunWarmersAsync(ILockHandle hold, CancellationToken stoppingToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, hold.HandleLost);
        var started = Stopwatch.GetTimestamp();
        long keys = 0;
        foreach (var warmer in _warmers)
        {
            try
            {
                var warmed = await warmer.WarmAsync(backed, linked.Token);
                keys += warmed;
                cache.Runtime.Metrics.Warmed(warmed, "warmer");
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !linked.IsCancellationRequested)
            {
                CacheWarmingLog.WarmerFailed(logger, warmer.GetType().Name, ex);
            }
        }

        Interlocked.Increment(ref _warmerRuns);
        LastWarmDuration = Stopwatch.GetElapsedTime(started);
        CacheWarmingLog.WarmersRan(logger, _warmers.Length, keys, (long)LastWarmDuration.TotalMilliseconds);
    }

    private async Task RewarmHotKeysAsync(ILockHandle hold, CancellationToken stoppingToken)
    {
        if (_table is null)
        {
            return;
        }

        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, hold.HandleLost);
        var started = Stopwatch.GetTimestamp();
        var candidates = await _table.TakeTopAsync(_options.HotKeyCount, linked.Token);
        var warmed = 0;
        foreach (var key in candidates)
        {
            if (!backed.HasLoader(key))
            {
                continue;
            }

            try
            {
                await backed.RefreshAsync(key, linked.Token);
                warmed++;
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !linked.IsCancellationRequested)
            {
                CacheWarmingLog.HotKeyRefreshFailed(logger, key, ex);
            }
        }

        cache.Runtime.Metrics.Warmed(warmed, "hot");
        Interlocked.Increment(ref _hotRounds);
        CacheWarmingLog.HotKeysRewarmed(logger, warmed, candidates.Length, (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
    }
}
