namespace Coordination.Worker.Duties;

/// <summary>
/// The duty <c>session-cleanup</c>: removes the entries of ended sessions from the users' indexes, publishes their
/// expiry events and purges the durable copies of ended sessions (<see cref="ISessionMaintenance"/>). The duty scheduler
/// runs it on one node at a time every <c>Coordination:Worker:Duties:session-cleanup:Interval</c> (by default
/// <see cref="WorkerOptions.SessionCleanupInterval"/>); a failure is logged, counted and recorded by the scheduler.
/// </summary>
internal sealed class SessionCleanupDuty(ISessionMaintenance maintenance, ILogger<SessionCleanupDuty> logger) : IDuty
{
    public const string Name = "session-cleanup";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        // Null when a node outside the scheduler (a library host) holds the cleanup's own lock: it does the work.
        if (await maintenance.TryCleanupAsync(cancellationToken) is { } result)
        {
            WorkerLog.SessionCleanupDone(logger, result.IndexesScanned, result.EntriesRemoved, result.CopiesPurged);
        }
    }
}
