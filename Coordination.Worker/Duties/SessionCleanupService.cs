using Microsoft.Extensions.Options;

namespace Coordination.Worker.Duties;

/// <summary>
/// Every <see cref="WorkerOptions.SessionCleanupInterval"/>, removes the entries of ended sessions from the users'
/// indexes and publishes their expiry events (<see cref="ISessionMaintenance"/>). One node at a time does it (the
/// library's platform lock): when another worker is at it, this one skips the round. Redis being down skips it too.
/// </summary>
internal sealed class SessionCleanupService(
    ISessionMaintenance maintenance,
    IOptions<WorkerOptions> options,
    TimeProvider timeProvider,
    ILogger<SessionCleanupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.SessionCleanupInterval;
        WorkerLog.SessionCleanupStarted(logger, interval);
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await CleanUpAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    private async Task CleanUpAsync(CancellationToken stoppingToken)
    {
        try
        {
            var result = await maintenance.TryCleanupAsync(stoppingToken);
            if (result is not null)
            {
                WorkerLog.SessionCleanupDone(logger, result.IndexesScanned, result.EntriesRemoved, result.CopiesPurged);
            }
        }
        catch (CoordinationUnavailableException ex)
        {
            WorkerLog.SessionCleanupUnavailable(logger, ex.Reason);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug worth seeing, but not one that may stop the worker's other duties.
            WorkerLog.SessionCleanupFailed(logger, ex);
        }
    }
}
