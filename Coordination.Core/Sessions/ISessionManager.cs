using System.Text.Json;

namespace Coordination;

/// <summary>
/// Distributed sessions of one tenant, shared by every node: create, read (sliding the idle expiry, never past the
/// absolute one), merge updates with optimistic versions, delete, list and revoke a user's sessions, and rotate a
/// session's id atomically. Thread-safe; reach it as <see cref="IRedisCoordinator.Sessions"/> or from dependency
/// injection (the default tenant).
/// </summary>
public interface ISessionManager
{
    /// <summary>Creates a session for <paramref name="userId"/> with a new unguessable id (128 random bits or more, URL-safe).</summary>
    /// <param name="userId">The user the session belongs to (a name: 1..512 UTF-8 bytes, no control characters).</param>
    /// <param name="data">The session's fields; <see langword="null"/> for none.</param>
    /// <param name="options">The session's timeouts; <see langword="null"/> uses <see cref="SessionManagerOptions"/>'s defaults.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <exception cref="ArgumentException">The user id, a field name, the data's size or a timeout is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<Session> CreateAsync(string userId, IReadOnlyDictionary<string, JsonElement>? data = null, SessionOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads a live session and slides its idle expiry (never past its absolute expiry). <see langword="null"/> when
    /// no live session has this id (never created, expired, deleted, revoked or rotated away); a malformed id reads
    /// as absent too.
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<Session?> GetAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>
    /// Merges <paramref name="patch"/> into a live session's data: each field is set, or removed when its value is
    /// <see langword="null"/>; fields not named are kept, so concurrent patches of different fields all survive. The
    /// version goes up by one, and the access slides the idle expiry. <see langword="null"/> when no live session has
    /// this id.
    /// </summary>
    /// <param name="id">The session id.</param>
    /// <param name="patch">The fields to set or remove.</param>
    /// <param name="expectedVersion">When given, the update applies only if the session still has this version.</param>
    /// <param name="cancellationToken">Cancels the wait for the answer.</param>
    /// <exception cref="SessionVersionConflictException">The session's version is not <paramref name="expectedVersion"/>; nothing changed.</exception>
    /// <exception cref="ArgumentException">A field name or the resulting data's size is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<Session?> UpdateAsync(string id, IReadOnlyDictionary<string, JsonElement?> patch, long? expectedVersion = null, CancellationToken cancellationToken = default);

    /// <summary>Deletes a session. Returns whether a live session had this id.</summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<bool> DeleteAsync(string id, CancellationToken cancellationToken = default);

    /// <summary>The live sessions of <paramref name="userId"/>, soonest expiring first.</summary>
    /// <exception cref="ArgumentException">The user id is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<IReadOnlyList<Session>> ListForUserAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>Deletes every session of <paramref name="userId"/>. Returns how many live sessions it ended.</summary>
    /// <exception cref="ArgumentException">The user id is invalid.</exception>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<int> RevokeAllForUserAsync(string userId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Gives a live session a new unguessable id, with the same data, user and expiry, and ends the old id, in one
    /// step: no reader ever finds both ids alive or both dead. <see langword="null"/> when no live session has this id.
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    ValueTask<Session?> RotateAsync(string id, CancellationToken cancellationToken = default);
}
