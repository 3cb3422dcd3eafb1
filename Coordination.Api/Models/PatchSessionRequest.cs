using System.Text.Json;

namespace Coordination.Api.Models;

/// <summary>The body of <c>PATCH /v1/sessions/{id}</c>.</summary>
/// <param name="Data">A JSON object (required): each field is set, or removed when its value is null; others are kept.</param>
public sealed record PatchSessionRequest(JsonElement Data);
