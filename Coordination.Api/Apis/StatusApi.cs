using System.Reflection;
using Coordination.Api.Authentication;
using Coordination.Api.Limits;
using Coordination.Api.Models;
using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Coordination.Api.Apis;

/// <summary>
/// <c>GET /v1/status</c> (JSON) and <c>GET /status</c> (a self-refreshing HTML page): the state of the link to
/// Redis, the circuit and the fallback. Anonymous callers (and keys without the admin role) get the status word only;
/// the details (pool, connections, counters, version, and every node's report with the Worker's duties) need an admin
/// key. With
/// <c>Coordination:Status:RequireAdminKey</c> everything needs the admin key.
/// </summary>
public static class StatusApi
{
    private static readonly string Version =
        typeof(StatusApi).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(StatusApi).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>Maps the status endpoints.</summary>
    public static RouteGroupBuilder MapStatusApi(this IEndpointRouteBuilder app)
    {
        // Status is cached and cheap: it is not counted against a caller's request rate (Coordination:Api:RateLimit).
        var api = app.MapGroup("").WithTags("Operations").OutsideTenantRequestRate();
        if (app.ServiceProvider.GetRequiredService<IOptions<StatusOptions>>().Value.RequireAdminKey)
        {
            api.RequireAuthorization(ApiKeyDefaults.AdminPolicy)
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status403Forbidden);
        }
        else
        {
            api.AllowAnonymous();
        }

        api.MapGet("/v1/status", GetStatus)
            .WithName("GetStatus")
            .WithSummary("Reports the link to Redis, the circuit breaker, the fallback, every node (stale ones marked) and the Worker's duties. Holds no keys, tenants or data.");

        api.MapGet("/status", GetStatusPage)
            .WithName("GetStatusPage")
            .WithSummary("The same as /v1/status as an HTML page that refreshes itself.")
            .ExcludeFromDescription();

        return api;
    }

    /// <summary>200 with the status snapshot: the details for an admin key, the status word for anyone else.</summary>
    public static async Task<Ok<StatusResponse>> GetStatus(
        StatusSnapshotCache snapshots, NodeSnapshotCache nodes, IAuthorizationService authorization, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await GetVisibleStatusAsync(snapshots, nodes, authorization, user, cancellationToken));

    /// <summary>200 with an HTML page rendering the status snapshot; it reloads itself every few seconds.</summary>
    public static async Task<ContentHttpResult> GetStatusPage(
        StatusSnapshotCache snapshots,
        NodeSnapshotCache nodes,
        IOptions<StatusOptions> options,
        IAuthorizationService authorization,
        ClaimsPrincipal user,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        var status = await GetVisibleStatusAsync(snapshots, nodes, authorization, user, cancellationToken);
        response.Headers.CacheControl = "no-store";
        response.Headers.ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
        response.Headers.XContentTypeOptions = "nosniff";
        return TypedResults.Content(StatusPage.Render(status, (int)Math.Ceiling(options.Value.PageRefresh.TotalSeconds)), "text/html; charset=utf-8");
    }

    private static async Task<StatusResponse> GetVisibleStatusAsync(
        StatusSnapshotCache snapshots, NodeSnapshotCache nodes, IAuthorizationService authorization, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var status = ToResponse(await snapshots.GetStatusAsync(cancellationToken));
        var admin = await authorization.AuthorizeAsync(user, ApiKeyDefaults.AdminPolicy);
        if (!admin.Succeeded)
        {
            // Anonymous callers never cause a read of the node reports.
            return status.Coarse();
        }

        return nodes.GetAsync(cancellationToken) is { } read ? WithNodes(status, await read) : status;
    }

    internal static StatusResponse WithNodes(StatusResponse status, NodeReportsSnapshot nodes) =>
        status with { Nodes = nodes.Nodes, NodesComplete = nodes.Complete, Duties = nodes.Duties };

    /// <summary><c>healthy</c>, <c>degraded</c> (circuit not closed or the fallback serving) or <c>unavailable</c>.</summary>
    internal static string StatusWord(CoordinationStatus status) => status switch
    {
        { Connected: false, Fallback.Active: true } => "degraded",
        { Connected: false } => "unavailable",
        { Circuit: not CircuitState.Closed } or { Fallback.Active: true } => "degraded",
        _ => "healthy",
    };

    internal static StatusResponse ToResponse(CoordinationStatus status) => new(
        StatusWord(status),
        new RedisStatusResponse(
            status.Connected,
            status.LatencyMilliseconds,
            new PoolStatusResponse(
                status.Pool.Size,
                status.Pool.Connected,
                status.Pool.Outstanding,
                status.Pool.MinConnections,
                status.Pool.MaxConnections,
                [.. status.Pool.Connections.Select(c => new PoolConnectionResponse(
                    c.Id, c.Connected, c.Outstanding, c.Operations, c.Failures, c.LastPingMilliseconds, c.ForcedReconnects))])),
        status.Circuit switch
        {
            CircuitState.Closed => "closed",
            CircuitState.Open => "open",
            CircuitState.HalfOpen => "half-open",
            CircuitState.Isolated => "isolated",
            _ => "unknown",
        },
        new FallbackStatusResponse(
            status.Fallback.Configured,
            status.Fallback.Ready,
            status.Fallback.Active,
            status.Fallback.MirrorBacklog,
            status.Fallback.MirrorBehind,
            status.Fallback.MirrorDroppedWrites,
            new FallbackRepairResponse(
                status.Fallback.Repair.State switch
                {
                    FallbackRepairState.Pending => "pending",
                    FallbackRepairState.Running => "running",
                    _ => "idle",
                },
                status.Fallback.Repair.LossDetectedAt,
                status.Fallback.Repair.RowsRestored)),
        Version);
}
