namespace Coordination;

/// <summary>What one cleanup did.</summary>
/// <param name="IndexesScanned">User indexes looked at.</param>
/// <param name="EntriesRemoved">Entries of ended sessions removed from them (an expiry event published for each).</param>
/// <param name="CopiesPurged">Rows of ended sessions deleted from the durable copy in PostgreSQL (0 without it).</param>
public sealed record SessionCleanupResult(long IndexesScanned, long EntriesRemoved, long CopiesPurged);
