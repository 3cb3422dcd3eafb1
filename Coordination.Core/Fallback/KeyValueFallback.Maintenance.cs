namespace Coordination;

/// <summary>The purge as a bounded step for a duty (<see cref="IFallbackMaintenance"/>), next to every node's own purge loop.</summary>
internal sealed partial class KeyValueFallback : IFallbackMaintenance
{
    public async Task<long> PurgeExpiredAsync(int maxRows, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxRows);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxRows, 100_000);
        if (_store is null || !_ready)
        {
            return 0;
        }

        var purged = await _store.PurgeExpiredOnceAsync(maxRows, cancellationToken);
        if (purged > 0)
        {
            _purged.Add(purged);
        }

        FallbackLog.ExpiredRowsPurged(_logger, purged);
        return purged;
    }
}
