using Microsoft.Extensions.Options;

namespace Coordination.Worker.Duties;

/// <summary>
/// The duty <c>session-migration</c>: while <c>Coordination:Sessions:MigrateFrom</c> is set, drains the migration source
/// (<see cref="ISessionMigration"/>). A run makes pass after pass while they find sessions, until a pass finds the source
/// empty (then it logs that the settings can be removed, and later runs on this node do nothing) or another node outside
/// the scheduler holds the migration's own lock (then the next run tries again). The duty scheduler runs it on one node
/// at a time every <c>Coordination:Worker:Duties:session-migration:Interval</c> (by default
/// <see cref="WorkerOptions.SessionMigrationInterval"/>); a failing pass (the source or the current Redis unavailable,
/// or a bug) fails the run, which the scheduler logs (1862), records and retries on schedule. A large migration may need
/// a longer <c>Coordination:Worker:Duties:session-migration:Timeout</c> (5 minutes); a run that times out keeps what it
/// moved and the next run goes on. Without a source configured a run does nothing.
/// </summary>
internal sealed class SessionMigrationDuty(
    ISessionMigration migration,
    IOptions<CoordinationOptions> coordination,
    IOptionsMonitor<DutyOptions> duties,
    ILogger<SessionMigrationDuty> logger) : IDuty
{
    public const string Name = "session-migration";
    private bool _started;
    private bool _drained;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (!migration.IsConfigured || _drained)
        {
            return;
        }

        if (!_started)
        {
            _started = true;
            var interval = duties.Get(Name).Interval;
            WorkerLog.SessionMigrationStarted(logger, interval);
        }

        while (await migration.TryMigrateAsync(cancellationToken) is { } result)
        {
            if (result.IndexesFound == 0)
            {
                _drained = true;
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

                return;
            }

            WorkerLog.SessionMigrationPass(logger, result.IndexesFound, result.Moved, result.AlreadyPresent, result.Ended);
        }
    }
}
