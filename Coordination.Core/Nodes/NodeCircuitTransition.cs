namespace Coordination;

/// <summary>A change of a node's circuit state.</summary>
public sealed class NodeCircuitTransition
{
    /// <summary>The state entered: <c>closed</c>, <c>open</c>, <c>half-open</c> or <c>isolated</c>.</summary>
    public string State { get; init; } = string.Empty;

    /// <summary>When the node saw it (its own clock).</summary>
    public DateTimeOffset At { get; init; }
}
