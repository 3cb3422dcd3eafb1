namespace Coordination;

/// <summary>What one pass of the bulk session migration did (<see cref="ISessionMigration"/>).</summary>
/// <param name="IndexesFound">Users' indexes found at the source; 0 means the source holds no sessions any more.</param>
/// <param name="Moved">Sessions written here from the source.</param>
/// <param name="AlreadyPresent">Sessions this location had already (moved on use, or by another pass); their stale source copies were removed.</param>
/// <param name="Ended">Sessions that had ended here (deleted, rotated, revoked) or by their own expiry; their source copies were removed.</param>
public sealed record SessionMigrationResult(long IndexesFound, long Moved, long AlreadyPresent, long Ended);
