namespace Coordination;

/// <summary>The repair of key/value data from the PostgreSQL mirror after Redis lost it, as this node sees it.</summary>
/// <param name="State">Whether a repair is pending or running here.</param>
/// <param name="LossDetectedAt">
/// When the last loss was detected (by Redis's clock; the current life of the data set began then), or
/// <see langword="null"/> when this node has not seen one since it started.
/// </param>
/// <param name="RowsRestored">Values this node put back into Redis since it started, by the bulk reload and on reads.</param>
public sealed record FallbackRepairStatus(FallbackRepairState State, DateTimeOffset? LossDetectedAt, long RowsRestored)
{
    /// <summary>No repair seen: idle, no loss, nothing restored.</summary>
    public static FallbackRepairStatus None { get; } = new(FallbackRepairState.Idle, null, 0);
}
