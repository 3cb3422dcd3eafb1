using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// The schedule of one duty, bound from <c>Coordination:Worker:Duties:{name}</c> (named options, the name being the
/// duty's) and validated at start.
/// </summary>
public sealed class DutyOptions
{
    /// <summary>The configuration section under which each duty has its own section, named after the duty.</summary>
    public const string SectionName = "Coordination:Worker:Duties";

    /// <summary>Gets or sets whether this node runs the duty; a node where it is disabled neither runs it nor competes for its lock.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets how often the duty runs, over all nodes together: a run is due this long after the previous run
    /// started (on whichever node), or at once when that run took longer.
    /// </summary>
    /// <value>The default value is the one the duty was registered with.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "7.00:00:00", ErrorMessage = "Coordination:Worker:Duties:<name>:Interval must be between 50 ms and 7 days.")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how long a run may take; a run still going then is canceled and recorded as failed (<c>timeout</c>).</summary>
    /// <value>The default value is 5 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00", ErrorMessage = "Coordination:Worker:Duties:<name>:Timeout must be between 50 ms and 1 day.")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Gets or sets the time to live of the duty's lock. The running node renews it; a node that dies mid-run blocks
    /// the duty for at most this long.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Coordination:Worker:Duties:<name>:LockTimeToLive must be between 100 ms and 1 hour.")]
    public TimeSpan LockTimeToLive { get; set; } = TimeSpan.FromSeconds(30);
}
