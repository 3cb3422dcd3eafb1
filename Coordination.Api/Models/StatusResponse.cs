using System.Text.Json.Serialization;

namespace Coordination.Api.Models;

/// <summary>
/// The answer of <c>GET /v1/status</c>. Anonymous callers get <paramref name="Status"/> only; the details need an
/// admin key (so do <see cref="Nodes"/> and <see cref="Duties"/>). Carries no secrets, keys, tenant names or stored data.
/// </summary>
/// <param name="Status">The coarse health: <c>healthy</c>, <c>degraded</c> or <c>unavailable</c>.</param>
/// <param name="Redis">The link to Redis (admin only).</param>
/// <param name="Circuit"><c>closed</c>, <c>open</c>, <c>half-open</c> or <c>isolated</c> (admin only).</param>
/// <param name="Fallback">The PostgreSQL fallback (admin only).</param>
/// <param name="Version">The service's version (admin only).</param>
public sealed record StatusResponse(
    string Status,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] RedisStatusResponse? Redis,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Circuit,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] FallbackStatusResponse? Fallback,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Version)
{
    /// <summary>
    /// Every node that reports (API replicas, the Worker), this one first and collected live; a node that stopped
    /// reporting is marked <c>stale</c> (admin only; absent when this service does not read node reports).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<NodeReport>? Nodes { get; init; }

    /// <summary>Whether the other nodes were read from Redis just now; false: shown as last read (admin only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public bool? NodesComplete { get; init; }

    /// <summary>The Worker's duties: last run, result, next run (admin only).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<NodeDutyReport>? Duties { get; init; }

    /// <summary>The answer for a caller without an admin key: the status word only.</summary>
    public StatusResponse Coarse() => new(Status, null, null, null, null);
}
