using System.Diagnostics.Metrics;
using Npgsql;

namespace Coordination;

/// <summary>
/// The purge: every <see cref="FallbackOptions.PurgeInterval"/>, rows that expired by PostgreSQL's clock are deleted
/// in batches. Every node purges (no leader to elect): a purge is idempotent, and concurrent ones delete disjoint rows or
/// nothing.
/// </summary>
internal sealed partial class KeyValueFallback
{
    private const int PurgeBatchSize = 1000;

    private readonly Counter<long> _purged;

    private async Task PurgeAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            await DelayAsync(_options.PurgeInterval, stopping);
            if (_ready && !stopping.IsCancellationRequested)
            {
                await PurgeOnceAsync(stopping);
            }
        }
    }

    private async Task PurgeOnceAsync(CancellationToken stopping)
    {
        try
        {
            var purged = await _store!.PurgeExpiredAsync(PurgeBatchSize, stopping);
            if (purged > 0)
            {
                _purged.Add(purged);
            }

            FallbackLog.ExpiredRowsPurged(_logger, purged);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            Volatile.Write(ref _lastStoreFailure, ex);
            FallbackLog.PurgeFailed(_logger, ex);
        }
    }
}
