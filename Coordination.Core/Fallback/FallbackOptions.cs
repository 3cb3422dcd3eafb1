using System.ComponentModel.DataAnnotations;

namespace Coordination;

/// <summary>PostgreSQL fallback settings (section <c>Coordination:Fallback</c>).</summary>
public sealed class FallbackOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination:Fallback";

    /// <summary>
    /// Whether key/value calls fall back to PostgreSQL while Redis is unavailable. Only takes effect when the
    /// connection string named <see cref="ConnectionName"/> is configured.
    /// </summary>
    /// <value>The default value is <see langword="true"/>.</value>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// When key/value writes are acknowledged unless a call says otherwise: <see cref="KeyValueDurability.Asynchronous"/>
    /// (once Redis has them) or <see cref="KeyValueDurability.Synchronous"/> (once PostgreSQL committed them too).
    /// </summary>
    /// <value>The default value is <see cref="KeyValueDurability.Asynchronous"/>.</value>
    [EnumDataType(typeof(KeyValueDurability))]
    public KeyValueDurability Durability { get; set; } = KeyValueDurability.Asynchronous;

    /// <summary>
    /// How long a <see cref="KeyValueDurability.Synchronous"/> write waits for PostgreSQL to commit its copy before it
    /// fails with <see cref="UnavailableReason.DurableCopyNotConfirmed"/> (the write stays in Redis and queued for PostgreSQL).
    /// </summary>
    /// <value>The default value is 5 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan SynchronousTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The name of the PostgreSQL connection string (<c>ConnectionStrings:{name}</c>).</summary>
    /// <value>The default value is <c>coordinationdb</c>.</value>
    [Required]
    public string ConnectionName { get; set; } = "coordinationdb";

    /// <summary>The PostgreSQL schema that holds the fallback tables.</summary>
    /// <value>The default value is <c>coordination</c>.</value>
    [Required]
    [RegularExpression("^[a-z_][a-z0-9_]{0,62}$", ErrorMessage = "Coordination:Fallback:Schema must be a lowercase PostgreSQL identifier.")]
    public string Schema { get; set; } = "coordination";

    /// <summary>
    /// Writes that may wait to be mirrored to PostgreSQL (the batch being written included). A write that finds the
    /// queue full is not mirrored and never waits: the mirror is then behind until it is reconciled from Redis. Also
    /// the number of dropped keys remembered for that reconcile; beyond it, every key/value key is reconciled.
    /// </summary>
    /// <value>The default value is 10000.</value>
    [Range(1, 10_000_000)]
    public int MirrorQueueCapacity { get; set; } = 10_000;

    /// <summary>
    /// The most bytes (keys and values) that may wait to be mirrored to PostgreSQL; like
    /// <see cref="MirrorQueueCapacity"/>, a write beyond it is not mirrored but reconciled later.
    /// </summary>
    /// <value>The default value is 64 MiB (67108864).</value>
    [Range(typeof(long), "1024", "9223372036854775807")]
    public long MirrorQueueMaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// How often each node deletes expired rows from PostgreSQL (by PostgreSQL's clock, in batches). Every node
    /// purges: a purge is idempotent and cheap when there is nothing to delete.
    /// </summary>
    /// <value>The default value is 1 minute.</value>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan PurgeInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The most writes mirrored to PostgreSQL in one batch.</summary>
    /// <value>The default value is 256.</value>
    [Range(1, 100_000)]
    public int MirrorBatchSize { get; set; } = 256;

    /// <summary>How often a node in fallback mode checks whether Redis is back.</summary>
    /// <value>The default value is 500 milliseconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan RecoveryProbeInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How often each node checks whether Redis lost its key/value data (a restart without persistence, a failover to a
    /// server without the writes, a FLUSHALL), besides at once when a connection comes back or the topology changes.
    /// After a loss, values the PostgreSQL mirror holds are restored (read-through on a miss, and a bulk reload on one
    /// node): see docs/operations.md, "Repair after Redis data loss".
    /// </summary>
    /// <value>The default value is 1 second.</value>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan LossCheckInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The most mirror rows the bulk reload after a loss reads and restores in one batch.</summary>
    /// <value>The default value is 256.</value>
    [Range(1, 100_000)]
    public int RepairBatchSize { get; set; } = 256;

    /// <summary>The most mirror rows per second the bulk reload after a loss restores into Redis.</summary>
    /// <value>The default value is 5000.</value>
    [Range(1, 10_000_000)]
    public int RepairRowsPerSecond { get; set; } = 5000;

    /// <summary>
    /// The time to live of the lock that lets one node at a time run the bulk reload; renewed while it runs. When its
    /// node dies, another node takes the reload over this long after, at its next check.
    /// </summary>
    /// <value>The default value is 15 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan RepairLockTimeToLive { get; set; } = TimeSpan.FromSeconds(15);
}
