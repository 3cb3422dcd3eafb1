namespace Coordination;

/// <summary>What one cleanup did.</summary>
/// <param name="IndexesScanned">User indexes looked at.</param>
/// <param name="EntriesRemoved">Entries of ended sessions removed from them (an expiry event published for each).</param>
/// <param name="CopiesPurged">Rows of ended sessions deleted from the durable copy in PostgreSQL (0 without it).</param>
/// <param name="LiveSessions">Entries left in the indexes: the live sessions of every tenant.</param>
/// <param name="ChangesReplayed">Session changes made in the durable copy while Redis was unavailable, replayed to Redis.</param>
public sealed record SessionCleanupResult(long IndexesScanned, long EntriesRemoved, long CopiesPurged, long LiveSessions, long ChangesReplayed);
