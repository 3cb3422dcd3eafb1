using System.Text.Json;

namespace Coordination.AppHost.Tests;

/// <summary>Small helpers shared by the API tests.</summary>
internal static class ApiTestSupport
{
    public static async Task<JsonDocument> ReadJsonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return JsonDocument.Parse(text.Length == 0 ? "{}" : text);
    }

    public static string? TypeOf(JsonDocument problem) =>
        problem.RootElement.TryGetProperty("type", out var type) ? type.GetString() : null;

    // Every test its own names, keys and tags, so tests never touch each other's data.
    public static string NewPrefix() => $"apphost-tests-{Guid.NewGuid():N}";

    public static CancellationTokenSource Bound(TimeSpan timeout, CancellationToken testCancellation)
    {
        var bound = CancellationTokenSource.CreateLinkedTokenSource(testCancellation);
        bound.CancelAfter(timeout);
        return bound;
    }
}
