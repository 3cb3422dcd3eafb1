using System.Text.Json;

namespace Coordination;

/// <summary>
/// One node's report: who it is and the state of its link to Redis, circuit, fallback, locks, cache, sessions and rate
/// limits, as it last wrote it (or live, for the node that reads). Holds no secrets, keys, tenant names or stored data.
/// </summary>
public sealed class NodeReport
{
    /// <summary>The node's name: <c>{service}@{host}:{process id}</c>.</summary>
    public string Name { get; init; } = string.Empty;

    /// <summary>The node's role: <c>api</c>, <c>worker</c>, or another that a service configured.</summary>
    public string Role { get; init; } = string.Empty;

    /// <summary>The version of the node's application.</summary>
    public string Version { get; init; } = string.Empty;

    /// <summary>When the node's process started (its own clock).</summary>
    public DateTimeOffset StartedAt { get; init; }

    /// <summary>When the node last wrote its report (Redis's clock); <see langword="null"/> when it never could.</summary>
    public DateTimeOffset? ReportedAt { get; init; }

    /// <summary>How often the node reports, in milliseconds.</summary>
    public long IntervalMs { get; init; }

    /// <summary>Whether the node stopped reporting: its last report is older than the stale threshold.</summary>
    public bool Stale { get; init; }

    /// <summary>Whether this is the node that answered (its state collected live).</summary>
    public bool Self { get; init; }

    /// <summary>The node's link to Redis and its connection pool.</summary>
    public NodeRedisReport Redis { get; init; } = new();

    /// <summary>The node's circuit breaker.</summary>
    public NodeCircuitReport Circuit { get; init; } = new();

    /// <summary>The node's PostgreSQL fallback.</summary>
    public NodeFallbackReport Fallback { get; init; } = new();

    /// <summary>The locks the node holds through handles.</summary>
    public NodeLocksReport Locks { get; init; } = new();

    /// <summary>The node's cache lookups per level since it started.</summary>
    public NodeCacheReport Cache { get; init; } = new();

    /// <summary>Live sessions of all tenants as the node's last session cleanup counted them; <see langword="null"/> where no cleanup runs.</summary>
    public long? ActiveSessions { get; init; }

    /// <summary>The node's rate-limit decisions since it started.</summary>
    public NodeRateLimitReport RateLimits { get; init; } = new();

    /// <summary>What other capabilities added (<see cref="INodeReportSection"/>), by section name.</summary>
    public IReadOnlyDictionary<string, JsonElement> Sections { get; init; } = new Dictionary<string, JsonElement>();

    /// <summary>This report under <paramref name="name"/>, with the reader's view of it.</summary>
    internal NodeReport Copy(string name, DateTimeOffset? reportedAt, bool stale, bool self) => new()
    {
        Name = name,
        Role = Role,
        Version = Version,
        StartedAt = StartedAt,
        ReportedAt = reportedAt,
        IntervalMs = IntervalMs,
        Stale = stale,
        Self = self,
        Redis = Redis,
        Circuit = Circuit,
        Fallback = Fallback,
        Locks = Locks,
        Cache = Cache,
        ActiveSessions = ActiveSessions,
        RateLimits = RateLimits,
        Sections = Sections,
    };
}
