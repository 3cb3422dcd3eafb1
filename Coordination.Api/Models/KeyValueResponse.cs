using System.Text.Json;

namespace Coordination.Api.Models;

/// <summary>The answer of <c>GET /v1/kv/{key}</c>.</summary>
/// <param name="Key">The key.</param>
/// <param name="Value">The stored JSON value.</param>
/// <param name="TtlMs">The remaining time to live in milliseconds; null when the key never expires.</param>
public sealed record KeyValueResponse(string Key, JsonElement Value, long? TtlMs);
