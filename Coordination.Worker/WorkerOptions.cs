using System.ComponentModel.DataAnnotations;

namespace Coordination.Worker;

/// <summary>Settings of the worker's duties, bound from the <c>Worker</c> configuration section.</summary>
public sealed class WorkerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Worker";

    /// <summary>How often the worker writes its heartbeat; the heartbeat key lives three intervals.</summary>
    /// <value>The default value is 10 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Worker:HeartbeatInterval must be between 1 second and 1 hour.")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The name this worker writes its heartbeat under (<c>worker:heartbeat:{InstanceName}</c>).</summary>
    /// <value>The default value is the machine name.</value>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Worker:InstanceName must not be empty.")]
    [RegularExpression("^[A-Za-z0-9._-]{1,128}$", ErrorMessage = "Worker:InstanceName must be 1..128 characters of letters, digits, '.', '_' or '-'.")]
    public string InstanceName { get; set; } = Environment.MachineName;

    /// <summary>
    /// How often the worker removes ended sessions from the users' indexes and announces their expiry: the default of
    /// <c>Coordination:Worker:Duties:session-cleanup:Interval</c>, which takes precedence when set.
    /// </summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Worker:SessionCleanupInterval must be between 100 ms and 1 day.")]
    public TimeSpan SessionCleanupInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// While <c>Coordination:Sessions:MigrateFrom</c> is set: how long the worker waits before trying the session
    /// migration again after a pass was skipped (another node migrates, or Redis is unavailable): the default of
    /// <c>Coordination:Worker:Duties:session-migration:Interval</c>, which takes precedence when set.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00", ErrorMessage = "Worker:SessionMigrationInterval must be between 100 ms and 1 day.")]
    public TimeSpan SessionMigrationInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The most expired rows the duty <c>fallback-purge</c> deletes from the PostgreSQL fallback store per run (one statement).</summary>
    /// <value>The default value is 1000.</value>
    [Range(1, 100_000, ErrorMessage = "Worker:FallbackPurgeRows must be between 1 and 100000.")]
    public int FallbackPurgeRows { get; set; } = 1000;
}
