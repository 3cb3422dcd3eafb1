namespace Coordination.Api.Models;

/// <summary>The Redis connection pool.</summary>
/// <param name="Size">Connections in the pool.</param>
/// <param name="Connected">Connections connected now.</param>
/// <param name="Outstanding">Operations in flight across the pool.</param>
/// <param name="MinConnections">The configured minimum size.</param>
/// <param name="MaxConnections">The configured maximum size.</param>
/// <param name="Connections">Each connection (endpoints left out on purpose).</param>
public sealed record PoolStatusResponse(
    int Size,
    int Connected,
    int Outstanding,
    int MinConnections,
    int MaxConnections,
    IReadOnlyList<PoolConnectionResponse> Connections);
