using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Samples the reads of every tenant's cache on this node (a <see cref="HotKeyTracker"/> per tenant, bounded by
/// <see cref="HotKeyWarmingOptions.TrackedKeys"/>) and, every <see cref="HotKeyWarmingOptions.ReportInterval"/> and once
/// more when the host stops, reports the hottest keys of the busiest tenants (<see cref="HotKeyWarmingOptions.TenantsPerReport"/>,
/// <see cref="HotKeyWarmingOptions.KeysPerTenant"/> each) with one script call per tenant (<see cref="HotKeyReports"/>).
/// </summary>
/// <remarks>
/// A tenant whose cache already has a tracker (the cache warming service's, on the default tenant) keeps it and is not
/// reported by this node. Failures never stop the service: an interval whose report fails is dropped.
/// </remarks>
internal sealed class HotKeyReporter : BackgroundService
{
    private static readonly TimeSpan FinalReportTimeout = TimeSpan.FromSeconds(2);
    private readonly Dictionary<RedisCacheManager, HotKeyTracker> _trackers = new(ReferenceEqualityComparer.Instance);
    private readonly CacheRuntime _runtime;
    private readonly HotKeyReports _reports;
    private readonly HotKeyWarmingOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<HotKeyReporter> _logger;
    private readonly Counter<long> _reported;
    private readonly Counter<long> _refused;
    private int _rounds;

    public HotKeyReporter(CacheRuntime runtime, HotKeyReports reports, IOptions<HotKeyWarmingOptions> options, CoordinationMetrics metrics, TimeProvider time, ILogger<HotKeyReporter> logger)
    {
        _runtime = runtime;
        _reports = reports;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _reported = metrics.Meter.CreateCounter<long>("coordination.cache.hotkeys.reported", "{key}", "Hot keys this node reported to Redis.");
        _refused = metrics.Meter.CreateCounter<long>("coordination.cache.hotkeys.refused", "{report}", "Tenant reports Redis did not record because it lists Coordination:Cache:HotKeys:MaxTenants tenants already.");
    }

    /// <summary>How many reports this node made.</summary>
    internal int Rounds => Volatile.Read(ref _rounds);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.Enabled)
        {
            // Here rather than in ExecuteAsync, which may run on the thread pool after the host has started serving:
            // caches created from now on are sampled from their first read; those created before, from here.
            _runtime.TenantCreated = Attach;
            Attach();
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(_options.ReportInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Attach();
                await ReportAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping: report what was counted since the last interval, so a restarted node finds it.
            using var final = new CancellationTokenSource(FinalReportTimeout, _time);
            await ReportAsync(final.Token);
        }
        finally
        {
            _runtime.TenantCreated = null;
            lock (_trackers)
            {
                foreach (var (cache, tracker) in _trackers)
                {
                    if (ReferenceEquals(cache.HotKeys, tracker))
                    {
                        cache.HotKeys = null;
                    }
                }
            }
        }
    }

    /// <summary>Gives every tenant's cache that has none a tracker (a safety net for the <see cref="CacheRuntime.TenantCreated"/> hook).</summary>
    internal void Attach()
    {
        foreach (var cache in _runtime.Tenants)
        {
            Attach(cache);
        }
    }

    private void Attach(RedisCacheManager cache)
    {
        lock (_trackers)
        {
            if (cache.HotKeys is null && !_trackers.ContainsKey(cache))
            {
                var tracker = new HotKeyTracker(_options.SampleRate, _options.TrackedKeys);
                cache.HotKeys = tracker;
                _trackers[cache] = tracker;
            }
        }
    }

    /// <summary>Reports the counts since the last report: the busiest tenants first, one script call each.</summary>
    internal async Task ReportAsync(CancellationToken cancellationToken)
    {
        (string Tenant, KeyValuePair<string, long>[] Counts, long Total)[] drained;
        lock (_trackers)
        {
            drained = [.. _trackers
                .Select(e => (e.Key.Tenant, Counts: e.Value.Drain(_options.KeysPerTenant)))
                .Where(e => e.Counts.Length > 0)
                .Select(e => (e.Tenant, Counts: e.Counts.Select(c => new KeyValuePair<string, long>(c.Key, c.Value * _options.SampleRate)).ToArray(), Total: e.Counts.Sum(c => c.Value)))
                .OrderByDescending(e => e.Total)
                .Take(_options.TenantsPerReport)];
        }

        long keys = 0;
        var tenants = 0;
        try
        {
            foreach (var (tenant, counts, _) in drained)
            {
                var counted = await _reports.ReportAsync(tenant, counts, cancellationToken);
                if (counted < 0)
                {
                    _refused.Add(1);
                    HotKeysLog.TenantRefused(_logger, tenant);
                    continue;
                }

                keys += counted;
                tenants++;
            }

            Interlocked.Increment(ref _rounds);
            HotKeysLog.Reported(_logger, tenants, keys);
        }
        catch (CoordinationUnavailableException ex)
        {
            HotKeysLog.ReportFailed(_logger, ex);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping, or the final report ran out of time: nothing more to do.
        }
        finally
        {
            _reported.Add(keys);
        }
    }
}
