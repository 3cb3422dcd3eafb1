using System.Text.Json;

namespace Coordination.Api.Models;

/// <summary>The body of <c>POST /v1/sessions</c>, bound by the endpoint and validated by it.</summary>
/// <param name="UserId">The user the session belongs to (required; 1..512 UTF-8 bytes, no control characters).</param>
/// <param name="Data">A JSON object: the session's fields; absent or null for none.</param>
/// <param name="IdleTimeoutMs">How long the session lives without access (1 .. 2592000000); absent uses <c>Coordination:Sessions:DefaultIdleTimeout</c>.</param>
/// <param name="AbsoluteTimeoutMs">How long it lives at most (1 .. 2592000000); absent uses <c>Coordination:Sessions:DefaultAbsoluteTimeout</c>.</param>
public sealed record CreateSessionRequest(string? UserId, JsonElement Data, long? IdleTimeoutMs = null, long? AbsoluteTimeoutMs = null);
