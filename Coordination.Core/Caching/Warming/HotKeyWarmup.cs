using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Warm-on-start: when the host starts (a hosted service's start, so before a web host listens and reports ready),
/// loads the hottest reported keys of the most recently reporting tenants (<see cref="HotKeyWarmingOptions.WarmTenants"/>,
/// <see cref="HotKeyWarmingOptions.KeysPerTenant"/> each) from Redis into the memory level as
/// <typeparamref name="TValue"/>, within <see cref="HotKeyWarmingOptions.WarmTimeout"/>. The first reads of those keys
/// are then memory hits. It never fails the start: a timeout or an unavailable Redis is logged and the node starts with
/// what it has.
/// </summary>
/// <typeparam name="TValue">The type the node reads its cached values as (<see cref="System.Text.Json.JsonElement"/> for the HTTP API).</typeparam>
internal sealed class HotKeyWarmup<TValue>(
    CacheRuntime runtime,
    HotKeyReports reports,
    IOptions<HotKeyWarmingOptions> options,
    ILogger<HotKeyWarmup<TValue>> logger) : IHostedService
{
    private const int Parallelism = 16;
    private int _warmed;

    /// <summary>How many keys the start warmed.</summary>
    internal int Warmed => Volatile.Read(ref _warmed);

    /// <summary>How long the start's warming took.</summary>
    internal TimeSpan Elapsed { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        if (!o.Enabled || !o.WarmOnStart || runtime.Memory.LimitBytes == 0)
        {
            return;
        }

        var started = Stopwatch.GetTimestamp();
        using var timeout = new CancellationTokenSource(o.WarmTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var tenants = 0;
        try
        {
            var work = new List<(RedisCacheManager Cache, string Key)>();
            foreach (var tenant in await reports.TenantsAsync(o.WarmTenants, linked.Token))
            {
                RedisCacheManager cache;
                try
                {
                    cache = runtime.ForTenant(tenant);
                }
                catch (ArgumentException)
                {
                    continue; // Not a tenant name this platform writes: ignored.
                }

                tenants++;
                foreach (var key in await reports.HottestAsync(tenant, o.KeysPerTenant, linked.Token))
                {
                    work.Add((cache, key));
                }
            }

            await Parallel.ForEachAsync(
                work,
                new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = linked.Token },
                async (item, token) =>
                {
                    try
                    {
                        if (await item.Cache.PreloadAsync<TValue>(item.Key, token))
                        {
                            Interlocked.Increment(ref _warmed);
                        }
                    }
                    catch (ArgumentException)
                    {
                        // Not a valid cache key: skipped.
                    }
                });
            Elapsed = Stopwatch.GetElapsedTime(started);
            HotKeysLog.Warmed(logger, Warmed, tenants, (long)Elapsed.TotalMilliseconds);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            Elapsed = Stopwatch.GetElapsedTime(started);
            HotKeysLog.WarmTimedOut(logger, o.WarmTimeout, Warmed);
        }
        catch (CoordinationUnavailableException ex)
        {
            Elapsed = Stopwatch.GetElapsedTime(started);
            HotKeysLog.WarmFailed(logger, ex);
        }
        finally
        {
            runtime.Metrics.Warmed(Warmed, "start");
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
