namespace Coordination;

/// <summary>A node's link to Redis and its connection pool (endpoints left out on purpose).</summary>
public sealed class NodeRedisReport
{
    /// <summary>Whether the node's last PING through its pool succeeded.</summary>
    public bool Connected { get; init; }

    /// <summary>That PING's round trip in milliseconds; <see langword="null"/> when it failed.</summary>
    public double? LatencyMs { get; init; }

    /// <summary>Connections in the pool.</summary>
    public int PoolSize { get; init; }

    /// <summary>Connections connected.</summary>
    public int PoolConnected { get; init; }

    /// <summary>Operations in flight across the pool.</summary>
    public int Outstanding { get; init; }

    /// <summary>The configured minimum pool size.</summary>
    public int MinConnections { get; init; }

    /// <summary>The configured maximum pool size.</summary>
    public int MaxConnections { get; init; }

    /// <summary>Each connection and its load.</summary>
    public IReadOnlyList<NodeConnectionReport> Connections { get; init; } = [];
}
