using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// Options of hot-key reports and warm-on-start (<c>WithHotKeyWarming</c>), bound from <see cref="SectionName"/>: every
/// node samples the reads of each tenant's cache and reports its hottest keys to Redis; a node that starts loads the
/// hottest keys of the reported tenants from Redis into its memory level before it serves.
/// </summary>
public sealed class HotKeyWarmingOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Cache:HotKeys";

    /// <summary>Gets or sets whether reads are sampled and reported; when <see langword="false"/> nothing is reported and nothing is warmed.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>Gets or sets how often a node reports its sampled counts (and once more when it stops).</summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00", ErrorMessage = "Coordination:Cache:HotKeys:ReportInterval must be between 50 ms and 1 hour.")]
    public TimeSpan ReportInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the sampling of reads: one read in this many (per thread) is counted.</summary>
    /// <value>The default value is 16.</value>
    [Range(1, 1_000_000, ErrorMessage = "Coordination:Cache:HotKeys:SampleRate must be between 1 and 1000000.")]
    public int SampleRate { get; set; } = 16;

    /// <summary>Gets or sets how many distinct keys a node counts per tenant and interval; reads of further keys wait for the next interval.</summary>
    /// <value>The default value is 1024.</value>
    [Range(1, 100_000, ErrorMessage = "Coordination:Cache:HotKeys:TrackedKeys must be between 1 and 100000.")]
    public int TrackedKeys { get; set; } = 1024;

    /// <summary>Gets or sets how many keys are kept per tenant in Redis (the hottest), reported per interval, and warmed at start.</summary>
    /// <value>The default value is 100.</value>
    [Range(1, 10_000, ErrorMessage = "Coordination:Cache:HotKeys:KeysPerTenant must be between 1 and 10000.")]
    public int KeysPerTenant { get; set; } = 100;

    /// <summary>Gets or sets how many tenants Redis lists at most, over all nodes; a tenant that is not listed while the list is full is not recorded until a listed one stops reporting.</summary>
    /// <value>The default value is 1000.</value>
    [Range(1, 100_000, ErrorMessage = "Coordination:Cache:HotKeys:MaxTenants must be between 1 and 100000.")]
    public int MaxTenants { get; set; } = 1000;

    /// <summary>Gets or sets how many tenants one node reports per interval (those with the most sampled reads).</summary>
    /// <value>The default value is 100.</value>
    [Range(1, 100_000, ErrorMessage = "Coordination:Cache:HotKeys:TenantsPerReport must be between 1 and 100000.")]
    public int TenantsPerReport { get; set; } = 100;

    /// <summary>Gets or sets the half-life of the reported counts, so the table follows what is hot now.</summary>
    /// <value>The default value is 10 minutes.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "7.00:00:00", ErrorMessage = "Coordination:Cache:HotKeys:HalfLife must be between 50 ms and 7 days.")]
    public TimeSpan HalfLife { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Gets or sets how long a tenant's report is kept after its last report.</summary>
    /// <value>The default value is 1 hour.</value>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00", ErrorMessage = "Coordination:Cache:HotKeys:KeepFor must be between 1 second and 30 days.")]
    public TimeSpan KeepFor { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Gets or sets whether a starting node loads the hottest keys into its memory level before it serves.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool WarmOnStart { get; set; } = true;

    /// <summary>Gets or sets how many tenants a starting node warms (the most recently reporting ones).</summary>
    /// <value>The default value is 100.</value>
    [Range(1, 100_000, ErrorMessage = "Coordination:Cache:HotKeys:WarmTenants must be between 1 and 100000.")]
    public int WarmTenants { get; set; } = 100;

    /// <summary>Gets or sets how long warming at start may take; the node starts then with what it has (warming never fails a start).</summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:05:00", ErrorMessage = "Coordination:Cache:HotKeys:WarmTimeout must be between 10 ms and 5 minutes.")]
    public TimeSpan WarmTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
