using System.Text.Json;

namespace Coordination.Api.Models;

/// <summary>The body of <c>PUT /v1/kv/{key}</c> (documentation only: the handler parses the body itself).</summary>
/// <param name="Value">Any JSON value, up to <c>Coordination:MaxValueBytes</c> (1 MiB by default).</param>
/// <param name="TtlMs">When the key expires, in milliseconds (1 .. 2592000000); absent or null keeps it until deleted.</param>
public sealed record SetValueRequest(JsonElement Value, long? TtlMs);
