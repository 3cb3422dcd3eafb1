namespace Coordination.Api.Models;

/// <summary>The PostgreSQL fallback.</summary>
/// <param name="Configured">Whether a fallback store is configured.</param>
/// <param name="Ready">Whether it can serve.</param>
/// <param name="Active">Whether key/value calls are served by it now.</param>
/// <param name="MirrorBacklog">Writes still waiting to be copied to PostgreSQL.</param>
/// <param name="MirrorBehind">Whether writes dropped from a full mirror queue still wait to be reconciled from Redis.</param>
/// <param name="MirrorDroppedWrites">Writes dropped from a full mirror queue since the process started.</param>
/// <param name="Repair">The repair after Redis lost its data.</param>
public sealed record FallbackStatusResponse(bool Configured, bool Ready, bool Active, int MirrorBacklog, bool MirrorBehind, long MirrorDroppedWrites, FallbackRepairResponse Repair);
