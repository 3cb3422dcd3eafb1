using System.Net.Http.Json;
using System.Text.Json;

namespace Coordination.Benchmarks.Noisy;

/// <summary>What the API says about itself (<c>GET /v1/status</c> with the operator's admin key) and this process's memory, at one moment.</summary>
internal sealed record ServerSnapshot(string Version, string Circuit, int? MirrorBacklog, long? MirrorDroppedWrites, long WorkingSetBytes)
{
    public static async Task<ServerSnapshot> TakeAsync(HttpClient operatorClient, CancellationToken cancellationToken)
    {
        var workingSet = Environment.WorkingSet;
        try
        {
            using var status = await operatorClient.GetFromJsonAsync<JsonDocument>("v1/status", cancellationToken);
            var root = status!.RootElement;
            var fallback = root.TryGetProperty("fallback", out var f) && f.ValueKind == JsonValueKind.Object && f.GetProperty("configured").GetBoolean() ? f : (JsonElement?)null;
            return new(
                root.TryGetProperty("version", out var version) ? version.GetString() ?? "?" : "?",
                root.TryGetProperty("circuit", out var circuit) ? circuit.GetString() ?? "?" : "?",
                fallback?.GetProperty("mirrorBacklog").GetInt32(),
                fallback?.GetProperty("mirrorDroppedWrites").GetInt64(),
                workingSet);
        }
        catch (Exception ex) when (ex is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException or OperationCanceledException)
        {
            return new("unknown (" + ex.GetType().Name + ")", "?", null, null, workingSet);
        }
    }
}
