using System.Text.Json;

namespace Coordination.Api.Models;

/// <summary>The body of <c>PUT /v1/kv/{key}</c>, bound by the endpoint and validated by it.</summary>
/// <param name="Value">
/// Any JSON value, up to <c>Coordination:MaxValueBytes</c> (1 MiB by default). Required; JSON <c>null</c> is a value
/// (absence reads as <see cref="JsonValueKind.Undefined"/>).
/// </param>
/// <param name="TtlMs">When the key expires, in milliseconds (1 .. 2592000000); absent or null keeps it until deleted.</param>
/// <param name="Durability">
/// <c>"synchronous"</c> to be answered only after PostgreSQL committed the write's copy, <c>"asynchronous"</c> to be
/// answered once Redis has it; absent or null uses <c>Coordination:Fallback:Durability</c>.
/// </param>
public sealed record SetValueRequest(JsonElement Value, long? TtlMs = null, string? Durability = null);
