namespace Coordination;

/// <summary>Where a node stands in the repair of key/value data after Redis lost it.</summary>
public enum FallbackRepairState
{
    /// <summary>No repair is known to be needed: no loss since the last repair, or no check has answered yet.</summary>
    Idle,

    /// <summary>
    /// Redis lost its data and the repair is not done: a read that misses in Redis is answered from the PostgreSQL
    /// mirror (and the value restored), while the bulk reload runs on another node or waits for one.
    /// </summary>
    Pending,

    /// <summary>As <see cref="Pending"/>, and this node runs the bulk reload.</summary>
    Running,
}
