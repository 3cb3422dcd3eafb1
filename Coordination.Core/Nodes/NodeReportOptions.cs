using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// Settings of the node reports (section <c>Coordination:Nodes</c>): every node that adds <c>WithNodeReports</c>
/// writes a report of its state into Redis every <see cref="Interval"/>, so a status page of any node shows them all.
/// </summary>
public sealed class NodeReportOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Nodes";

    /// <summary>How often this node writes its report.</summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A node whose last report is older than this many of its intervals is shown as stale (it stopped reporting:
    /// crashed, stopped, or cut off from Redis).
    /// </summary>
    /// <value>The default value is 3.</value>
    [Range(2, 100)]
    public int StaleAfterIntervals { get; set; } = 3;

    /// <summary>
    /// How long a report is kept after it was written: a node that stopped reporting is shown as stale until then and
    /// dropped after. The keys themselves expire this long after the last report of any node. Must be longer than
    /// <see cref="StaleAfterIntervals"/> times <see cref="Interval"/>.
    /// </summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan Expiry { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The most nodes whose reports are kept; when more report, the oldest reports are dropped.</summary>
    /// <value>The default value is 64.</value>
    [Range(1, 1024)]
    public int MaxNodes { get; set; } = 64;

    /// <summary>The most circuit transitions a report lists (the newest).</summary>
    /// <value>The default value is 10.</value>
    [Range(1, 100)]
    public int MaxCircuitTransitions { get; set; } = 10;

    /// <summary>
    /// The node's role: lowercase letters, digits and '-', 1..32 characters (<c>api</c>, <c>worker</c>).
    /// <c>WithNodeReports</c> sets it.
    /// </summary>
    /// <value>The default value is <c>service</c>.</value>
    [Required]
    [RegularExpression("^[a-z0-9-]{1,32}$")]
    public string Role { get; set; } = "service";

    /// <summary>
    /// The service part of the node's name; the name is <c>{service}@{host}:{process id}</c>. When empty, the
    /// OpenTelemetry service name (<c>OTEL_SERVICE_NAME</c>, which Aspire sets) or else the application name.
    /// Letters, digits, '.', '_' and '-', up to 64 characters.
    /// </summary>
    /// <value>The default value is empty.</value>
    [RegularExpression("^[A-Za-z0-9._-]{0,64}$")]
    public string? ServiceName { get; set; }
}
