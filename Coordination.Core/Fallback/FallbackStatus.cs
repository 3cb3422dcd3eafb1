namespace Coordination;

/// <summary>The state of the PostgreSQL fallback.</summary>
/// <param name="Configured">Whether a fallback store is configured.</param>
/// <param name="Ready">Whether its schema is in place and it can serve.</param>
/// <param name="Active">Whether key/value calls are being served by it now.</param>
/// <param name="MirrorBacklog">Writes made in Redis still waiting to be copied to PostgreSQL.</param>
public sealed record FallbackStatus(bool Configured, bool Ready, bool Active, int MirrorBacklog)
{
    /// <summary>
    /// Whether PostgreSQL may lack writes made in Redis: writes were dropped from a full mirror queue and have not been
    /// reconciled from Redis yet.
    /// </summary>
    public bool MirrorBehind { get; init; }

    /// <summary>Writes not queued for PostgreSQL because the mirror queue was full, since the process started.</summary>
    public long MirrorDroppedWrites { get; init; }

    /// <summary>The repair of key/value data from the mirror after Redis lost it.</summary>
    public FallbackRepairStatus Repair { get; init; } = FallbackRepairStatus.None;
}
