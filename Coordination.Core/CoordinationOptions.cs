using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>Settings shared by every capability, bound from the <c>Coordination</c> configuration section.</summary>
public sealed class CoordinationOptions
{
    /// <summary>The configuration section the options are bound from.</summary>
    public const string SectionName = "Coordination";

    /// <summary>The first segment of every Redis key the library writes (<c>{prefix}:{tenant}:{capability}:{name}</c>).</summary>
    /// <value>The default value is <c>coord</c>.</value>
    [Required]
    [RegularExpression(CoordinationLimits.SegmentPattern, ErrorMessage = "Coordination:KeyPrefix must be 1..64 characters of letters, digits, '.', '_' or '-'.")]
    public string KeyPrefix { get; set; } = "coord";

    /// <summary>The tenant of the coordinator resolved from dependency injection.</summary>
    /// <value>The default value is <c>default</c>.</value>
    [Required]
    [RegularExpression(CoordinationLimits.SegmentPattern, ErrorMessage = "Coordination:Tenant must be 1..64 characters of letters, digits, '.', '_' or '-'.")]
    public string Tenant { get; set; } = "default";

    /// <summary>The largest serialized value accepted by a write; larger values are rejected with an <see cref="ArgumentException"/>.</summary>
    /// <value>The default value is 1 MiB.</value>
    [Range(1, 512 * 1024 * 1024)]
    public int MaxValueBytes { get; set; } = 1024 * 1024;

    /// <summary>How long a lock taken through <see cref="IRedisCoordinator.LockAsync"/> is held at most when its holder never unlocks it.</summary>
    /// <value>The default value is 30 seconds.</value>
    [Range(typeof(TimeSpan), "00:00:00.001", "30.00:00:00")]
    public TimeSpan DefaultLockTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether every Redis command also gets a span of its own (OpenTelemetry's StackExchange.Redis instrumentation,
    /// under the operation's <c>coordination</c> span). The instrumentation profiles every command, traced or not,
    /// which costs about half the throughput under heavy concurrency; the per-operation spans, which name the
    /// operation and key, stay on whenever tracing is (<c>Aspire:StackExchange:Redis:DisableTracing</c>).
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool TraceRedisCommands { get; set; }

    /// <summary>
    /// How many reads of one kind (key/value GETs, cache entry reads) may be in flight before further reads are
    /// combined: reads that arrive while this many are outstanding go together as one MGET (per hash slot) on the
    /// thread pool's next turn, without waiting for a round trip. A lone reader is never combined. Zero sends every
    /// read on its own.
    /// </summary>
    /// <value>The default value is 1.</value>
    [Range(0, 1024)]
    public int MaxReadsInFlight { get; set; } = 1;

    /// <summary>
    /// How many writes of one kind (key/value SET and DELETE, cache entry writes) may be in flight before further
    /// writes are combined: writes that arrive while this many are outstanding go together as one command (per hash
    /// slot), in arrival order, on the thread pool's next turn; combined cache writes announce their keys in one
    /// invalidation log entry per tenant. A lone writer is never combined. Zero sends every write on its own.
    /// </summary>
    /// <value>The default value is 1.</value>
    [Range(0, 1024)]
    public int MaxWritesInFlight { get; set; } = 1;

    /// <summary>Connection pool settings.</summary>
    [Required]
    [ValidateObjectMembers]
    public ConnectionPoolOptions Pool { get; set; } = new();

    /// <summary>Timeout, retry and circuit breaker settings.</summary>
    [Required]
    [ValidateObjectMembers]
    public ResilienceOptions Resilience { get; set; } = new();

    /// <summary>PostgreSQL fallback settings.</summary>
    [Required]
    [ValidateObjectMembers]
    public FallbackOptions Fallback { get; set; } = new();

    /// <summary>Distributed lock settings.</summary>
    [Required]
    [ValidateObjectMembers]
    public LockManagerOptions Locks { get; set; } = new();

    /// <summary>Two-level cache settings (section <c>Coordination:Cache</c>).</summary>
    [Required]
    [ValidateObjectMembers]
    public CacheOptions Cache { get; set; } = new();

    /// <summary>Session settings (section <c>Coordination:Sessions</c>).</summary>
    [Required]
    [ValidateObjectMembers]
    public SessionManagerOptions Sessions { get; set; } = new();

    /// <summary>Rate-limiting settings (section <c>Coordination:RateLimiting</c>).</summary>
    [Required]
    [ValidateObjectMembers]
    public RateLimitingOptions RateLimiting { get; set; } = new();

    /// <summary>Per-tenant quotas (section <c>Coordination:Quotas</c>).</summary>
    [Required]
    [ValidateObjectMembers]
    public QuotaOptions Quotas { get; set; } = new();

    /// <summary>Health check settings.</summary>
    [Required]
    [ValidateObjectMembers]
    public HealthOptions Health { get; set; } = new();
}
