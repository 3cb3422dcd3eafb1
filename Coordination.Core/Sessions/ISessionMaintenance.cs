namespace Coordination;

/// <summary>
/// Housekeeping of the sessions of every tenant under the configured key prefix, for a background duty (the Worker's
/// session cleanup). Registered by <c>AddCoordination</c>.
/// </summary>
public interface ISessionMaintenance
{
    /// <summary>
    /// Removes the entries of ended sessions from the users' indexes and publishes an expiry event for each
    /// (<see cref="SessionExpiredChannel"/>), replays the session changes any node made in the durable copy while Redis
    /// was unavailable, and purges the copy's ended rows, unless another node is cleaning up now: one node at a time,
    /// chosen with a platform lock no tenant can name. Returns <see langword="null"/> when another node holds it.
    /// </summary>
    /// <exception cref="CoordinationUnavailableException">Redis is unavailable.</exception>
    Task<SessionCleanupResult?> TryCleanupAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// The Redis pub/sub channel of expiry events, <c>{prefix}:#session-expired</c>: one message per ended session
    /// found by a cleanup, JSON <c>{"tenant","userId","sessionId"}</c>.
    /// </summary>
    string SessionExpiredChannel { get; }
}
