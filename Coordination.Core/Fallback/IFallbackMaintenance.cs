namespace Coordination;

/// <summary>
/// Maintenance of the PostgreSQL fallback store for a duty that runs on one node (the worker's <c>fallback-purge</c>).
/// Resolvable from dependency injection once <c>AddCoordination</c> ran; without a configured store it does nothing.
/// </summary>
public interface IFallbackMaintenance
{
    /// <summary>Gets whether a PostgreSQL fallback store is configured.</summary>
    bool IsConfigured { get; }

    /// <summary>
    /// Deletes, in one statement, at most <paramref name="maxRows"/> mirrored rows whose expiry (the Redis key's TTL,
    /// kept with the row) has passed by PostgreSQL's clock; rows still waiting to be replayed to Redis are kept.
    /// </summary>
    /// <param name="maxRows">The most rows deleted: 1 to 100000.</param>
    /// <param name="cancellationToken">Cancels the statement.</param>
    /// <returns>How many rows were deleted; 0 without a store or before its schema is in place.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxRows"/> is outside 1..100000.</exception>
    Task<long> PurgeExpiredAsync(int maxRows, CancellationToken cancellationToken = default);
}
