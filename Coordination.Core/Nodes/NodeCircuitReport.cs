namespace Coordination;

/// <summary>A node's circuit breaker and its recent transitions.</summary>
public sealed class NodeCircuitReport
{
    /// <summary><c>closed</c>, <c>open</c>, <c>half-open</c> or <c>isolated</c>.</summary>
    public string State { get; init; } = "closed";

    /// <summary>The newest transitions, oldest first (at most <see cref="NodeReportOptions.MaxCircuitTransitions"/>).</summary>
    public IReadOnlyList<NodeCircuitTransition> Transitions { get; init; } = [];
}
