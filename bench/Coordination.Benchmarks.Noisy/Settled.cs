namespace Coordination.Benchmarks.Noisy;

/// <summary>How the pause after an attack ended: healthy again (closed circuit, empty mirror backlog) or given up on, after how long.</summary>
internal sealed record Settled(bool Healthy, TimeSpan Waited, ServerSnapshot Snapshot);
