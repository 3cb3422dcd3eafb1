using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>
/// Options of the cache warming service (<c>WithCacheWarming</c>), bound from <see cref="SectionName"/>: the start-up
/// warmers (<see cref="ICacheWarmer"/>) and the periodic re-warming of hot keys, run by one node at a time.
/// </summary>
public sealed class CacheWarmingOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Cache:Warming";

    /// <summary>Gets or sets whether the service runs; when <see langword="false"/> it neither tracks, warms nor competes for the warming lock.</summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Gets or sets how often every node publishes its sampled hot keys to Redis and the warming node reloads the
    /// hottest ones; a node that is not warming tries to take over at the same pace. Keep it below the time to live of
    /// the loaded entries, so hot keys are reloaded before they expire.
    /// </summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "1.00:00:00", ErrorMessage = "Coordination:Cache:Warming:HotKeyInterval must be between 50 ms and 1 day.")]
    public TimeSpan HotKeyInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Gets or sets how many of the hottest keys the warming node reloads each interval; 0 turns hot-key tracking off.</summary>
    /// <value>The default value is 100.</value>
    [Range(0, 100_000, ErrorMessage = "Coordination:Cache:Warming:HotKeyCount must be between 0 and 100000.")]
    public int HotKeyCount { get; set; } = 100;

    /// <summary>Gets or sets the sampling of reads: one read in this many (per thread) is counted.</summary>
    /// <value>The default value is 64.</value>
    [Range(1, 1_000_000, ErrorMessage = "Coordination:Cache:Warming:SampleRate must be between 1 and 1000000.")]
    public int SampleRate { get; set; } = 64;

    /// <summary>Gets or sets how many distinct keys a node counts per interval; reads of further keys are not counted until the next interval.</summary>
    /// <value>The default value is 1024.</value>
    [Range(1, 1_000_000, ErrorMessage = "Coordination:Cache:Warming:TrackedKeys must be between 1 and 1000000.")]
    public int TrackedKeys { get; set; } = 1024;

    /// <summary>
    /// Gets or sets the time to live of the warming lock. The warming node renews it; when that node dies, another takes
    /// over within this time plus one <see cref="HotKeyInterval"/>. A node that stops releases it at once.
    /// </summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00", ErrorMessage = "Coordination:Cache:Warming:LockTimeToLive must be between 100 ms and 1 hour.")]
    public TimeSpan LockTimeToLive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets the name of the warming lock (<see cref="IDistributedLockManager"/>, default tenant).</summary>
    /// <value>The default value is <c>cache-warming</c>.</value>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Coordination:Cache:Warming:LockName must not be empty.")]
    [StringLength(256, ErrorMessage = "Coordination:Cache:Warming:LockName must be at most 256 characters.")]
    public string LockName { get; set; } = "cache-warming";
}
