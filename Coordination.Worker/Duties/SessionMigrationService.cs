using Microsoft.Extensions.Options;

namespace Coordination.Worker.Duties;

/// <summary>
/// While <c>Coordination:Sessions:MigrateFrom</c> is set, drains the migration source (<see cref="ISessionMigration"/>):
/// pass after pass, one node at a time (the library's platform lock), until a pass finds the source empty; then it
/// logs that the settings can be removed and stops. A pass that moved sessions is followed at once by the next; a
/// skipped pass (another node migrates, or Redis is unavailable) is retried every
/// <see cref="WorkerOptions.SessionMigrationInterval"/>. Without a source configured the duty does nothing.
/// </summary>
internal sealed class SessionMigrationService(
    ISessionMigration migration,
    IOptions<CoordinationOptions> coordination,
    IOptions<WorkerOptions> options,
    TimeProvider timeProvider,
    ILogger<SessionMigrationService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!migration.IsConfigured)
        {
            return;
        }

        var interval = options.Value.SessionMigrationInterval;
        WorkerLog.SessionMigrationStarted(logger, interval);
        try
        {
            while (!await TryPassAsync(stoppingToken))
            {
                await Task.Delay(interval, timeProvider, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    /// <summary>Runs passes while they find sessions; true once the source is empty, false to wait and try again.</summary>
    private async Task<bool> TryPassAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await migration.TryMigrateAsync(stoppingToken) is { } result)
            {
                if (result.IndexesFound == 0)
                {
                    var prefixChanged = coordination.Value.Sessions.MigrateFrom.KeyPrefix is { Length: > 0 } sourcePrefix
                        && !string.Equals(sourcePrefix, coordination.Value.KeyPrefix, StringComparison.Ordinal);
                    if (prefixChanged)
                    {
                        WorkerLog.SessionMigrationDrainedKeepPrefix(logger);
                    }
                    else
                    {
                        WorkerLog.SessionMigrationDrained(logger);
                    }

                    return true;
                }

                WorkerLog.SessionMigrationPass(logger, result.IndexesFound, result.Moved, result.AlreadyPresent, result.Ended);
            }

            return false;
        }
        catch (CoordinationUnavailableException ex)
        {
            WorkerLog.SessionMigrationUnavailable(logger, ex.Reason);
            return false;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A bug worth seeing, but not one that may stop the worker's other duties.
            WorkerLog.SessionMigrationFailed(logger, ex);
            return false;
        }
    }
}
