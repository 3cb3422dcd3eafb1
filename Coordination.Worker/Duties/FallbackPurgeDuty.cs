using Microsoft.Extensions.Options;

namespace Coordination.Worker.Duties;

/// <summary>
/// The duty <c>fallback-purge</c>: deletes, in one statement per run, at most <see cref="WorkerOptions.FallbackPurgeRows"/>
/// rows of the PostgreSQL fallback store whose Redis-side expiry has passed (<see cref="IFallbackMaintenance"/>). Run on
/// one node at a time every <c>Coordination:Worker:Duties:fallback-purge:Interval</c> (1 minute by default). Without a
/// fallback store it does nothing.
/// </summary>
internal sealed class FallbackPurgeDuty(IFallbackMaintenance fallback, IOptions<WorkerOptions> options, ILogger<FallbackPurgeDuty> logger) : IDuty
{
    public const string Name = "fallback-purge";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!fallback.IsConfigured)
        {
            return;
        }

        var purged = await fallback.PurgeExpiredAsync(options.Value.FallbackPurgeRows, cancellationToken);
        WorkerLog.FallbackPurged(logger, purged, options.Value.FallbackPurgeRows);
    }
}
