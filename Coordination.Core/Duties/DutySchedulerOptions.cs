using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>Settings of the duty scheduler shared by every duty of the node, bound from <see cref="SectionName"/>.</summary>
public sealed class DutySchedulerOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Worker";

    /// <summary>Gets or sets the name this node records in the duties' state (<c>node</c>).</summary>
    /// <value>The default value is the machine name.</value>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Coordination:Worker:NodeName must not be empty.")]
    [RegularExpression("^[A-Za-z0-9._-]{1,128}$", ErrorMessage = "Coordination:Worker:NodeName must be 1..128 characters of letters, digits, '.', '_' or '-'.")]
    public string NodeName { get; set; } = Environment.MachineName;

    /// <summary>
    /// Gets or sets how long a node waits before looking again when another node holds a duty's lock, or when Redis is
    /// unavailable; at most the duty's interval is waited.
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00", ErrorMessage = "Coordination:Worker:RetryInterval must be between 10 ms and 10 minutes.")]
    public TimeSpan RetryInterval { get; set; } = TimeSpan.FromSeconds(5);
}
