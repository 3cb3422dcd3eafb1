namespace Coordination;

/// <summary>A session with what its durable copy needs besides the public view: its keys and timeouts.</summary>
/// <param name="Key">The session's Redis key (tenant and id inside).</param>
/// <param name="UserKey">The key that groups the tenant's user's sessions.</param>
/// <param name="Session">The session.</param>
/// <param name="IdleTimeout">How long it lives without access.</param>
/// <param name="AbsoluteExpiresAt">When it ends, accessed or not.</param>
/// <param name="SchemaVersion">The schema version its data is in (<see cref="SessionUpgrades"/>).</param>
internal sealed record StoredSession(string Key, string UserKey, Session Session, TimeSpan IdleTimeout, DateTimeOffset AbsoluteExpiresAt, int SchemaVersion = 1);

/// <summary>A row of the durable copy pending replay to Redis: a session changed while Redis was unavailable, or the tombstone of one ended then.</summary>
/// <param name="Stored">The row (for a tombstone, only its key is meaningful).</param>
/// <param name="Ended">Whether it is a tombstone.</param>
/// <param name="RedisVersion">The highest version of the states Redis made itself that the copy holds (migration 0005).</param>
internal sealed record PendingSession(StoredSession Stored, bool Ended, long RedisVersion = 0);

/// <summary>
/// What a replay left in Redis, for the copy's row: the version Redis holds, the row's
/// <see cref="PendingSession.RedisVersion"/> from now on (unchanged when the replay replaced states Redis made itself),
/// and the highest version of the states Redis made itself that it replaced (0 when none; migration 0006).
/// </summary>
internal readonly record struct ReplayOutcome(long Version, long RedisVersion, long ReplacedUpTo = 0);
