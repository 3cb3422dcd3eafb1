using System.Text.Json;

namespace Coordination.Api.Models;

/// <summary>The body of <c>PUT /v1/cache/{key}</c>, bound by the endpoint and validated by it.</summary>
/// <param name="Value">
/// Any JSON value, up to <c>Coordination:MaxValueBytes</c> (1 MiB by default). Required; JSON <c>null</c> is a value
/// (absence reads as <see cref="JsonValueKind.Undefined"/>).
/// </param>
/// <param name="TtlMs">How long the entry is fresh, in milliseconds (1 .. 2592000000); absent or null takes the cache's default time to live.</param>
/// <param name="Tags">
/// Up to 32 tags (each 1..512 UTF-8 bytes, no control characters); <c>POST /v1/cache/invalidate</c> with one of them
/// hides the entry. Absent, null or empty: no tags.
/// </param>
public sealed record SetCacheEntryRequest(JsonElement Value, long? TtlMs = null, IReadOnlyList<string?>? Tags = null);
