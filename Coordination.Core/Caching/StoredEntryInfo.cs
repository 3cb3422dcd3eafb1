namespace Coordination;

/// <summary>The metadata of a stored entry, from its header (times in server milliseconds).</summary>
internal readonly record struct StoredEntryInfo(long Created, long Expires, long HardExpires, long Sliding, int ComputeMilliseconds, string[] Tags);
