namespace Coordination.Api.Models;

/// <summary>The answer of <c>POST /v1/cache/invalidate</c>.</summary>
/// <param name="Invalidated">
/// How many distinct tags plus prefixes were invalidated (not entries): invalidation is O(1), it stamps each tag or
/// prefix and never scans the entries, so how many entries it hid is not known.
/// </param>
public sealed record InvalidateCacheResponse(int Invalidated);
