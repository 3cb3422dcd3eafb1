namespace Coordination;

/// <summary>A snapshot of the Redis connection pool.</summary>
/// <param name="Size">Connections in the pool.</param>
/// <param name="Connected">Connections connected now.</param>
/// <param name="Outstanding">Operations in flight across the pool.</param>
/// <param name="MinConnections">The configured minimum size.</param>
/// <param name="MaxConnections">The configured maximum size.</param>
/// <param name="Connections">Each connection.</param>
public sealed record ConnectionPoolStatus(
    int Size,
    int Connected,
    int Outstanding,
    int MinConnections,
    int MaxConnections,
    IReadOnlyList<ConnectionStatus> Connections);
