namespace Coordination;

/// <summary>
/// The bulk migration of sessions from <c>Coordination:Sessions:MigrateFrom</c> to the current location, for a
/// background duty (the Worker's session migration) or a command-line tool. Sessions keep working meanwhile: every node
/// configured with the same source reads through it. Registered by <c>AddCoordination</c>; thread-safe.
/// </summary>
public interface ISessionMigration
{
    /// <summary>Gets whether a migration source is configured (<see cref="SessionMigrationOptions.IsEnabled"/>).</summary>
    bool IsConfigured { get; }

    /// <summary>
    /// One pass over the source: SCANs the users' indexes of every tenant under the source's key prefix on every
    /// primary, and moves each session here (a session this location has, or ended recently, is not overwritten; the
    /// source's copy is removed). Safe to run on several nodes at once: each session is counted by exactly one of them.
    /// Run passes until one finds no index (<see cref="SessionMigrationResult.IndexesFound"/> is 0): the source is empty.
    /// </summary>
    /// <exception cref="InvalidOperationException">No migration source is configured.</exception>
    /// <exception cref="CoordinationUnavailableException">The source or the current Redis cannot be reached.</exception>
    Task<SessionMigrationResult> MigrateAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// <see cref="MigrateAsync"/> unless another node is migrating now: one node at a time, chosen with a platform lock
    /// no tenant can name. Returns <see langword="null"/> when another node holds it.
    /// </summary>
    /// <exception cref="InvalidOperationException">No migration source is configured.</exception>
    /// <exception cref="CoordinationUnavailableException">The source or the current Redis cannot be reached.</exception>
    Task<SessionMigrationResult?> TryMigrateAsync(CancellationToken cancellationToken = default);
}
