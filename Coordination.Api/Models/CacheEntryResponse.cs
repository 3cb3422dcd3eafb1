using System.Text.Json;

namespace Coordination.Api.Models;

/// <summary>The answer of <c>GET /v1/cache/{key}</c>.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The cached JSON value.</param>
public sealed record CacheEntryResponse(string Key, JsonElement Value);
