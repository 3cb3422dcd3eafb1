namespace Coordination;

/// <summary>The reports of every node as one read saw them. Holds no secrets, keys, tenant names or stored data.</summary>
public sealed class NodeReportsSnapshot
{
    /// <summary>When the reports were read: Redis's clock, or this node's when Redis could not be read.</summary>
    public DateTimeOffset ReadAt { get; init; }

    /// <summary>Whether Redis was read; when false, the other nodes are shown as last read (and may be stale).</summary>
    public bool Complete { get; init; }

    /// <summary>Every node, this one first, then by name.</summary>
    public IReadOnlyList<NodeReport> Nodes { get; init; } = [];

    /// <summary>The Worker's duties as their state in Redis says (empty when none is recorded).</summary>
    public IReadOnlyList<NodeDutyReport> Duties { get; init; } = [];
}
