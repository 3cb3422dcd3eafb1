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

    public static string Render(StatusResponse status, int refreshSeconds = RefreshSeconds)
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
            <meta http-equiv="refresh" content="{{refreshSeconds}}">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Coordination status</title>
            <style>
            body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
            h1 { font-size: 1.4rem; }
            .badge { display: inline-block; padding: .3rem .8rem; border-radius: .3rem; color: #fff; background: {{colour}}; }
            table { border-collapse: collapse; margin: 1rem 0; }
            th, td { text-align: left; padding: .3rem .8rem; border-bottom: 1px solid #ddd; }
            th { background: #f4f4f4; }
            .bad { color: #b00020; font-weight: 600; }
            .warn { color: #b26a00; font-weight: 600; }
            .good { color: #1b7f3b; }
            small { color: #666; }
            tr.stale td { background: #fbeaea; }
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
            if (status.Nodes is { } nodes)
            {
                AppendNodes(html, nodes, status.NodesComplete ?? true);
            }

            if (status.Duties is { Count: > 0 } duties)
            {
                AppendDuties(html, duties);
            }
        }

        html.Append(CultureInfo.InvariantCulture, $$"""
            <footer>Refreshes every {{refreshSeconds}} s. Generated {{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss}} UTC. JSON: <a href="v1/status">/v1/status</a></footer>
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

    private static void AppendNodes(StringBuilder html, IReadOnlyList<NodeReport> nodes, bool complete)
    {
        html.Append("<h2>Nodes</h2>\n");
        if (!complete)
        {
            html.Append("<p class=\"warn\" data-field=\"nodes-incomplete\">Redis cannot be read now: this node is shown live, the others as last read.</p>\n");
        }

        html.Append("""
            <table id="nodes">
            <tr><th>Node</th><th>Role</th><th>State</th><th>Redis</th><th>Circuit</th><th>Recent transitions</th><th>Fallback</th><th>Pool</th><th>Locks held</th><th>Cache hit ratio</th><th>Sessions</th><th>Rate-limit rejections</th><th>Version</th><th>Started</th><th>Last report</th></tr>

            """);
        foreach (var node in nodes)
        {
            var state = node switch
            {
                { Self: true } => ("live (this node)", "good"),
                { Stale: true } => ("stale: stopped reporting", "bad"),
                _ => ("reporting", "good"),
            };
            var circuitClass = node.Circuit.State == "closed" ? "good" : "bad";
            var fallbackClass = node.Fallback.Active ? "warn" : string.Empty;
            var redisClass = node.Redis.Connected ? "good" : "bad";
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr{(node.Stale ? " class=\"stale\"" : string.Empty)} data-node="{Encode(node.Name)}" data-self="{(node.Self ? "true" : "false")}" data-stale="{(node.Stale ? "true" : "false")}"><td data-field="name">{Encode(node.Name)}</td><td data-field="role">{Encode(node.Role)}</td><td data-field="state" class="{state.Item2}">{state.Item1}</td><td data-field="redis" class="{redisClass}">{(node.Redis.Connected ? "connected, " + Milliseconds(node.Redis.LatencyMs) : "not connected")}</td><td data-field="circuit" class="{circuitClass}">{Encode(node.Circuit.State)}</td><td data-field="transitions"><small>{TransitionsText(node.Circuit.Transitions)}</small></td><td data-field="fallback" class="{fallbackClass}">{NodeFallbackText(node.Fallback)}</td><td data-field="pool">{PoolText(node.Redis)}</td><td data-field="locks">{LocksText(node.Locks)}</td><td data-field="cache">L1 {Ratio(node.Cache.Memory)}, L2 {Ratio(node.Cache.Redis)}</td><td data-field="sessions">{(node.ActiveSessions is { } sessions ? sessions.ToString(CultureInfo.InvariantCulture) : "&ndash;")}</td><td data-field="ratelimit">{node.RateLimits.Rejected} of {node.RateLimits.Allowed + node.RateLimits.Rejected}</td><td data-field="version" title="{Encode(node.Version)}">{Encode(ShortVersion(node.Version))}</td><td data-field="started">{Time(node.StartedAt)}</td><td data-field="reported">{(node.ReportedAt is { } at ? Time(at) : "never")}</td></tr>

                """);
        }

        html.Append("</table>\n");
        foreach (var node in nodes.Where(n => n.Sections.Count > 0))
        {
            html.Append(CultureInfo.InvariantCulture, $"<p><small>{Encode(node.Name)}: ");
            foreach (var (name, value) in node.Sections)
            {
                var text = value.GetRawText();
                html.Append(CultureInfo.InvariantCulture, $"<b>{Encode(name)}</b> {Encode(text.Length > 300 ? text[..300] + "..." : text)} ");
            }

            html.Append("</small></p>\n");
        }
    }

    private static void AppendDuties(StringBuilder html, IReadOnlyList<NodeDutyReport> duties)
    {
        html.Append("""
            <h2>Worker duties</h2>
            <table id="duties">
            <tr><th>Duty</th><th>Node</th><th>Last run</th><th>Result</th><th>Next run</th><th>Runs</th><th>Failures</th></tr>

            """);
        foreach (var duty in duties)
        {
            var result = duty.Result switch
            {
                "failed" => ("failed" + (duty.Error is { Length: > 0 } error ? ": " + Encode(error) : string.Empty), "bad"),
                "ok" => ("ok", "good"),
                { } other => (Encode(other), string.Empty),
                null => ("&ndash;", string.Empty),
            };
            html.Append(CultureInfo.InvariantCulture, $"""
                <tr data-duty="{Encode(duty.Name)}"><td>{Encode(duty.Name)}</td><td>{Encode(duty.Node ?? "")}</td><td>{(duty.LastRunStartedAt is { } started ? Time(started) : "never")}{(duty.LastRunEndedAt is { } ended ? " &ndash; " + Time(ended) : string.Empty)}</td><td data-field="result" class="{result.Item2}">{result.Item1}</td><td>{(duty.NextRunAt is { } next ? Time(next) : "&ndash;")}</td><td>{duty.Runs}</td><td>{duty.Failures}</td></tr>

                """);
        }

        html.Append("</table>\n");
    }

    private static string NodeFallbackText(NodeFallbackReport fallback) => fallback switch
    {
        { Configured: false } => "not configured",
        { Active: true } => string.Create(CultureInfo.InvariantCulture, $"engaged (serving), {fallback.Operations} served, {fallback.MirrorBacklog} to mirror"),
        { MirrorBehind: true } => string.Create(CultureInfo.InvariantCulture, $"ready, mirror behind ({fallback.MirrorDroppedWrites} dropped)"),
        { Ready: true } => string.Create(CultureInfo.InvariantCulture, $"ready, {fallback.MirrorBacklog} to mirror, {fallback.Operations} served"),
        _ => "configured, not ready",
    };

    private static string PoolText(NodeRedisReport redis) =>
        string.Create(CultureInfo.InvariantCulture, $"{redis.PoolConnected}/{redis.PoolSize} connected, {redis.Outstanding} in flight ({string.Join(" ", redis.Connections.Select(c => $"#{c.Id}:{c.Outstanding}"))})");

    private static string LocksText(NodeLocksReport locks) =>
        locks.OldestHeldMs is { } oldest
            ? string.Create(CultureInfo.InvariantCulture, $"{locks.Held}, oldest {oldest / 1000.0:0.#} s")
            : locks.Held.ToString(CultureInfo.InvariantCulture);

    private static string Ratio(NodeCacheLevelReport level) =>
        level.HitRatio is { } ratio
            ? string.Create(CultureInfo.InvariantCulture, $"{ratio * 100:0.#} % ({level.Hits}/{level.Hits + level.Misses})")
            : "&ndash;";

    private static string TransitionsText(IReadOnlyList<NodeCircuitTransition> transitions) =>
        transitions.Count == 0
            ? "none"
            : string.Join(", ", transitions.TakeLast(5).Select(t => $"{Encode(t.State)} {t.At.UtcDateTime:HH:mm:ss}"));

    // "1.0.0+5cb02468415c..." as "1.0.0+5cb0246": the full version is the cell's title.
    private static string ShortVersion(string version) =>
        version.IndexOf('+', StringComparison.Ordinal) is var plus and >= 0 && version.Length > plus + 8 ? version[..(plus + 8)] : version;

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

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
