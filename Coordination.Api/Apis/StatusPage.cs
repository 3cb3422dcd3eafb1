using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Coordination.Api.Models;

namespace Coordination.Api.Apis;

/// <summary>
/// Renders <c>/status</c> on the server: one self-contained page (inline CSS, no scripts or external assets) that
/// reloads itself, so it works even when the status needs an admin key the browser could not add to a fetch.
/// </summary>
internal static class StatusPage
{
    public const int RefreshSeconds = 5;

    public static string Render(StatusResponse status)
    {
        var (overall, colour) = status switch
        {
            { Status: "unavailable" } => ("Unavailable", "#b00020"),
            { Status: "degraded", Redis.Connected: false, Fallback.Active: true } => ("Degraded: served by the fallback", "#b26a00"),
            { Status: "degraded" } => ("Degraded", "#b26a00"),
            _ => ("Healthy", "#1b7f3b"),
        };

        var html = new StringBuilder(4096);
        html.Append(CultureInfo.InvariantCulture, $$"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="refresh" content="{{RefreshSeconds}}">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Coordination status</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
            h1 { font-size: 1.4rem; }
            .badge { display: inline-block; padding: .3rem .8rem; border-radius: .3rem; color: #fff; background: {{colour}}; }
            table { border-collapse: collapse; margin: 1rem 0; }
            th, td { text-align: left; padding: .3rem .8rem; border-bottom: 1px solid #ddd; }
            th { background: #f4f4f4; }
            footer { color: #666; font-size: .85rem; }
            </style>
            </head>
            <body>
            <h1>Coordination status</h1>
            <p><span class="badge">{{Encode(overall)}}</span></p>

            """);

        if (status is not { Redis: { } redis, Circuit: { } circuit, Fallback: { } fallback, Version: { } version })
        {
            html.Append("<p>Details (pool, connections, counters, version) need an admin API key.</p>\n");
        }
        else
        {
            AppendDetails(html, redis, circuit, fallback, version);
        }

        html.Append(CultureInfo.InvariantCulture, $$"""
            <footer>Refreshes every {{RefreshSeconds}} s. Generated {{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}} UTC. JSON: <a href="v1/status">/v1/status</a></footer>
            </body>
            </html>

            """);
        return html.ToString();
    }

    private static void AppendDetails(StringBuilder html, RedisStatusResponse redis, string circuit, FallbackStatusResponse fallback, string version)
    {
        html.Append(CultureInfo.InvariantCulture, $$"""
            <table>
            <tr><th>Redis</th><td>{{(redis.Connected ? "connected" : "not connected")}}</td></tr>
            <tr><th>Latency</th><td>{{Milliseconds(redis.LatencyMs)}}</td></tr>
            <tr><th>Circuit</th><td>{{Encode(circuit)}}</td></tr>
            <tr><th>Fallback</th><td>{{FallbackText(fallback)}}</td></tr>
            <tr><th>Repair after data loss</th><td>{{RepairText(fallback.Repair)}}</td></tr>
            <tr><th>Pool</th><td>{{redis.Pool.Connected}} of {{redis.Pool.Size}} connected (min {{redis.Pool.MinConnections}}, max {{redis.Pool.MaxConnections}}), {{redis.Pool.Outstanding}} in flight</td></tr>
            <tr><th>Version</th><td>{{Encode(version)}}</td></tr>
            </table>
            <table>
            <tr><th>Connection</th><th>State</th><th>In flight</th><th>Operations</th><th>Failures</th><th>Last ping</th><th>Replaced</th></tr>

            """);

        foreach (var connection in redis.Pool.Connections)
        {
            html.Append(CultureInfo.InvariantCulture, $$"""
                <tr><td>#{{connection.Id}}</td><td>{{(connection.Connected ? "connected" : "disconnected")}}</td><td>{{connection.Outstanding}}</td><td>{{connection.Operations}}</td><td>{{connection.Failures}}</td><td>{{Milliseconds(connection.LastPingMs)}}</td><td>{{connection.ForcedReconnects}}</td></tr>

                """);
        }

        html.Append("</table>\n");
    }

    private static string FallbackText(FallbackStatusResponse fallback) => fallback switch
    {
        { Configured: false } => "not configured",
        { MirrorBehind: true } => $"{(fallback.Active ? "active (serving)" : "ready")}, mirror behind ({fallback.MirrorDroppedWrites} writes dropped, to reconcile)",
        { Active: true } => $"active (serving), {fallback.MirrorBacklog} writes to mirror",
        { Ready: true } => $"ready, {fallback.MirrorBacklog} writes to mirror",
        _ => "configured, not ready",
    };

    private static string RepairText(FallbackRepairResponse repair) =>
        string.Create(
            CultureInfo.InvariantCulture,
            $"{Encode(repair.State)}{(repair.LossDetectedAt is { } at ? $", last loss detected {at.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC" : string.Empty)}, {repair.RowsRestored} values restored by this node");

    private static string Milliseconds(double? value) =>
        value is { } ms ? ms.ToString("0.###", CultureInfo.InvariantCulture) + " ms" : "&ndash;";

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);
}
