using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Coordination.Api.Authentication;
using Coordination.Api.Models;
using Coordination.Api.Problems;
using Coordination.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Coordination.Api.Apis;

/// <summary>
/// <c>/v1/sessions</c> and <c>/v1/users/{userId}/sessions</c>: the caller's tenant's distributed sessions. A session
/// answer carries its <c>version</c> in the body and as the <c>ETag</c> (<c>"&lt;version&gt;"</c>); a PATCH with
/// <c>If-Match</c> applies only to that version (412 <c>version-conflict</c> otherwise). An id that names no live
/// session (never issued, expired, deleted, revoked, rotated away, malformed, or another tenant's) is 404.
/// </summary>
public static class SessionsApi
{
    // Room for the envelope around the data ({"userId": ..., "data": ..., timeouts} and JSON escapes); the data's own
    // limits (Coordination:Sessions:MaxDataBytes, MaxFields) are enforced by the library.
    private const int EnvelopeAllowanceBytes = 16 * 1024;

    private static readonly JsonElement JsonNull = JsonDocument.Parse("null").RootElement.Clone();

    /// <summary>Maps the session endpoints; every one needs a <c>member</c> (or <c>admin</c>) key.</summary>
    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var maxDataBytes = app.ServiceProvider.GetRequiredService<IOptions<CoordinationOptions>>().Value.Sessions.MaxDataBytes;
        var bodyLimit = (long)maxDataBytes * 6 + EnvelopeAllowanceBytes;

        var sessions = app.MapGroup("/v1/sessions")
            .RequireAuthorization(ApiKeyDefaults.MemberPolicy)
            .WithTags("Sessions")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        sessions.MapPost("/", CreateSession)
            .WithName("CreateSession")
            .WithSummary("Creates a session for userId with a new unguessable id.")
            .WithRequestBodyLimit(bodyLimit);

        sessions.MapGet("/{id}", GetSession)
            .WithName("GetSession")
            .WithSummary("Reads a live session and slides its idle expiry (never past its absolute expiry).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        sessions.MapPatch("/{id}", PatchSession)
            .WithName("PatchSession")
            .WithSummary("Merges data into a live session (null removes a field); with If-Match, only into that version.")
            .WithRequestBodyLimit(bodyLimit)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);

        sessions.MapDelete("/{id}", DeleteSession)
            .WithName("DeleteSession")
            .WithSummary("Ends a session; succeeds whether or not it was live.");

        sessions.MapPost("/{id}/rotate", RotateSession)
            .WithName("RotateSession")
            .WithSummary("Gives a live session a new id (same data and expiry); the old id is 404 from then on.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        var users = app.MapGroup("/v1/users")
            .RequireAuthorization(ApiKeyDefaults.MemberPolicy)
            .WithTags("Sessions")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        users.MapGet("/{userId}/sessions", ListUserSessions)
            .WithName("ListUserSessions")
            .WithSummary("The user's live sessions, soonest expiring first.");

        users.MapDelete("/{userId}/sessions", RevokeUserSessions)
            .WithName("RevokeUserSessions")
            .WithSummary("Ends every session of the user; answers how many were live.");

        return app;
    }

    /// <summary>POST: 201 with the session (and <c>Location</c>, <c>ETag</c>); 400 naming <c>userId</c>, <c>data</c>, <c>idleTimeoutMs</c>, <c>absoluteTimeoutMs</c> or <c>body</c>.</summary>
    public static async Task<Results<Created<SessionResponse>, ValidationProblem>> CreateSession(
        [FromBody] CreateSessionRequest request,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        RequestValidation.IsValidName(request.UserId, "userId", errors);
        var data = ReadObject(request.Data, "data", required: false, errors);
        var idle = RequestValidation.ReadDuration(request.IdleTimeoutMs, "idleTimeoutMs", errors);
        var absolute = RequestValidation.ReadDuration(request.AbsoluteTimeoutMs, "absoluteTimeoutMs", errors);
        if (errors.Any || request.UserId is null)
        {
            return errors.ToProblem();
        }

        // JSON null is a value at creation (only a patch removes fields with it).
        var fields = data?.ToDictionary(p => p.Key, p => p.Value ?? JsonNull, StringComparer.Ordinal);
        var options = idle is null && absolute is null ? null : new SessionOptions { IdleTimeout = idle, AbsoluteTimeout = absolute };
        var session = await Sessions(services, user).CreateAsync(request.UserId, fields, options, cancellationToken);
        SetETag(context, session);
        return TypedResults.Created($"/v1/sessions/{session.Id}", SessionResponse.From(session));
    }

    /// <summary>GET: 200 with the session (and <c>ETag</c>), its idle expiry slid; 404.</summary>
    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> GetSession(
        string id,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var session = await Sessions(services, user).GetAsync(id, cancellationToken);
        return Answer(context, session);
    }

    /// <summary>PATCH: 200 with the session; 404; 412 <c>version-conflict</c>; 400 naming <c>data</c>, <c>If-Match</c> or <c>body</c>.</summary>
    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult, ValidationProblem>> PatchSession(
        string id,
        [FromBody] PatchSessionRequest request,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var patch = ReadObject(request.Data, "data", required: true, errors);
        var expectedVersion = ReadIfMatch(context.Request.Headers.IfMatch.ToString(), errors);
        if (errors.Any || patch is null)
        {
            return errors.ToProblem();
        }

        var session = await Sessions(services, user).UpdateAsync(id, patch, expectedVersion, cancellationToken);
        if (session is null)
        {
            return NotFound();
        }

        SetETag(context, session);
        return TypedResults.Ok(SessionResponse.From(session));
    }

    /// <summary>DELETE: 204 whether or not the session was live.</summary>
    public static async Task<NoContent> DeleteSession(
        string id,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        await Sessions(services, user).DeleteAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>POST rotate: 200 with the session under its new id (and <c>ETag</c>); 404.</summary>
    public static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> RotateSession(
        string id,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var session = await Sessions(services, user).RotateAsync(id, cancellationToken);
        return Answer(context, session);
    }

    /// <summary>GET: 200 with the user's live sessions; 400 naming <c>userId</c>.</summary>
    public static async Task<Results<Ok<SessionResponse[]>, ValidationProblem>> ListUserSessions(
        [FromRoute(Name = "userId")] string? routeUserId,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var (userId, problem) = ReadUserId(context, routeUserId);
        if (userId is null)
        {
            return problem!;
        }

        var sessions = await Sessions(services, user).ListForUserAsync(userId, cancellationToken);
        return TypedResults.Ok(sessions.Select(SessionResponse.From).ToArray());
    }

    /// <summary>DELETE: 200 with how many live sessions were ended; 400 naming <c>userId</c>.</summary>
    public static async Task<Results<Ok<RevokedSessionsResponse>, ValidationProblem>> RevokeUserSessions(
        [FromRoute(Name = "userId")] string? routeUserId,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var (userId, problem) = ReadUserId(context, routeUserId);
        if (userId is null)
        {
            return problem!;
        }

        var revoked = await Sessions(services, user).RevokeAllForUserAsync(userId, cancellationToken);
        return TypedResults.Ok(new RevokedSessionsResponse(revoked));
    }

    /// <summary>The user id of <c>/v1/users/{userId}/sessions</c>, decoded once, or the 400 naming <c>userId</c>.</summary>
    private static (string? UserId, ValidationProblem? Problem) ReadUserId(HttpContext context, string? routeUserId)
    {
        var errors = new RequestErrors();
        var userId = RouteSegment.Decode(context, routeUserId, fromEnd: 1);
        return RequestValidation.IsValidName(userId, "userId", errors) ? (userId, null) : (null, errors.ToProblem());
    }

    private static ISessionManager Sessions(KeyValueServices services, ClaimsPrincipal user) =>
        services.Coordinators.ForTenant(user.GetTenant()).Sessions;

    private static Results<Ok<SessionResponse>, ProblemHttpResult> Answer(HttpContext context, Session? session)
    {
        if (session is null)
        {
            return NotFound();
        }

        SetETag(context, session);
        return TypedResults.Ok(SessionResponse.From(session));
    }

    private static ProblemHttpResult NotFound() => TypedResults.Problem(
        type: ProblemTypes.NotFound,
        title: "Not found",
        detail: "No live session has this id.",
        statusCode: StatusCodes.Status404NotFound);

    private static void SetETag(HttpContext context, Session session) =>
        context.Response.Headers.ETag = $"\"{session.Version.ToString(CultureInfo.InvariantCulture)}\"";

    /// <summary>The fields of a JSON object (a null value kept as null); absent or JSON null is none unless <paramref name="required"/>.</summary>
    private static Dictionary<string, JsonElement?>? ReadObject(JsonElement value, string field, bool required, RequestErrors errors)
    {
        if (value.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            if (required)
            {
                errors.Add(field, $"{field} is required: a JSON object of fields.");
            }

            return null;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(field, $"{field} must be a JSON object of fields.");
            return null;
        }

        var fields = new Dictionary<string, JsonElement?>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            fields[property.Name] = property.Value.ValueKind == JsonValueKind.Null ? null : property.Value;
        }

        return fields;
    }

    /// <summary><c>If-Match: "&lt;version&gt;"</c> (quotes optional); absent is none.</summary>
    private static long? ReadIfMatch(string header, RequestErrors errors)
    {
        if (string.IsNullOrEmpty(header))
        {
            return null;
        }

        var text = header.Trim();
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"')
        {
            text = text[1..^1];
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var version) && version > 0)
        {
            return version;
        }

        errors.Add("If-Match", "If-Match must be one session version, as the ETag gives it: \"<version>\".");
        return null;
    }
}
