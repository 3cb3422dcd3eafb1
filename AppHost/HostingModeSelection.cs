namespace Coordination.AppHost;

/// <summary>The hosting mode chosen for this run and why, for the AppHost's log.</summary>
/// <param name="Mode">The chosen mode.</param>
/// <param name="Reason">A short human-readable reason.</param>
internal sealed record HostingModeSelection(HostingMode Mode, string Reason);
