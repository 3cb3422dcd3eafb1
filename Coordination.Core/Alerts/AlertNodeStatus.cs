namespace Coordination;

/// <summary>What the rules read of a node's state at an evaluation (from <see cref="ICoordinationMonitor"/>).</summary>
internal readonly record struct AlertNodeStatus(CircuitState Circuit, bool FallbackActive, int MirrorBacklog);
