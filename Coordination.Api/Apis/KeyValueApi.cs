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
/// <c>/v1/kv/{key}</c>: set, get and delete JSON values in the caller's tenant. The tenant comes from the API key
/// only, so one tenant can never address another's keys.
/// </summary>
public static class KeyValueApi
{
    // Room for the envelope around the value ({"value": ..., "ttlMs": ...} and whitespace); the value's own limit,
    // measured on its compact serialization, is enforced by the library.
    private const int EnvelopeAllowanceBytes = 64 * 1024;

    /// <summary>Maps the key/value endpoints; every one needs a <c>member</c> (or <c>admin</c>) key.</summary>
    public static RouteGroupBuilder MapKeyValueApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/kv")
            .RequireAuthorization(ApiKeyDefaults.MemberPolicy)
            .WithTags("Key/value")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        var maxValueBytes = app.ServiceProvider.GetRequiredService<IOptions<CoordinationOptions>>().Value.MaxValueBytes;

        // A catch-all, so keys such as "orders/42" address one key rather than missing the route.
        api.MapPut("/{*key}", SetValue)
            .WithName("SetValue")
            .WithSummary("Stores a JSON value under a key, optionally expiring after ttlMs.")
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithRequestBodyLimit((long)maxValueBytes + EnvelopeAllowanceBytes, "value");

        api.MapGet("/{*key}", GetValue)
            .WithName("GetValue")
            .WithSummary("Reads the value under a key with its remaining time to live.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapDelete("/{*key}", DeleteValue)
            .WithName("DeleteValue")
            .WithSummary("Deletes a key; succeeds whether or not it existed.");

        return api;
    }

    /// <summary>PUT: 204, or 400 naming <c>key</c>, <c>value</c>, <c>ttlMs</c> or <c>body</c>.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> SetValue(
        string? key,
        [FromBody] SetValueRequest request,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        RequestValidation.IsValidName(key, "key", errors);
        var value = RequestValidation.ReadRequiredValue(request.Value, "value", errors);
        var timeToLive = RequestValidation.ReadDuration(request.TtlMs, "ttlMs", errors);
        var durability = RequestValidation.ReadDurability(request.Durability, "durability", errors);
        if (errors.Any || key is null || value is not { } element)
        {
            return errors.ToProblem();
        }

        var coordinator = services.Coordinators.ForTenant(user.GetTenant());
        if (durability is { } asked)
        {
            await coordinator.SetAsync(key, element, timeToLive, asked, cancellationToken);
        }
        else
        {
            await coordinator.SetAsync(key, element, timeToLive, cancellationToken);
        }

        return TypedResults.NoContent();
    }

    /// <summary>GET: 200 with key, value and ttlMs; 404 when the key does not exist.</summary>
    public static async Task<Results<Ok<KeyValueResponse>, ProblemHttpResult, ValidationProblem>> GetValue(
        string? key,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (!RequestValidation.IsValidName(key, "key", errors))
        {
            return errors.ToProblem();
        }

        var stored = await services.Coordinators.ForTenant(user.GetTenant()).GetWithTimeToLiveAsync<JsonElement>(key, cancellationToken);
        if (!stored.HasValue)
        {
            return TypedResults.Problem(
                type: ProblemTypes.NotFound,
                title: "Not found",
                detail: "No value is stored under this key.",
                statusCode: StatusCodes.Status404NotFound);
        }

        long? ttlMs = stored.TimeToLive is { } ttl ? (long)Math.Ceiling(ttl.TotalMilliseconds) : null;
        return TypedResults.Ok(new KeyValueResponse(key, stored.Value, ttlMs));
    }

    /// <summary>DELETE: 204 whether or not the key existed; <c>?durability=synchronous</c> answers after PostgreSQL committed the delete too.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> DeleteValue(
        string? key,
        [FromQuery] string? durability,
        ClaimsPrincipal user,
        [AsParameters] KeyValueServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        RequestValidation.IsValidName(key, "key", errors);
        var asked = RequestValidation.ReadDurability(durability, "durability", errors);
        if (errors.Any || key is null)
        {
            return errors.ToProblem();
        }

        var coordinator = services.Coordinators.ForTenant(user.GetTenant());
        if (asked is { } chosen)
        {
            await coordinator.DeleteAsync(key, chosen, cancellationToken);
        }
        else
        {
            await coordinator.DeleteAsync(key, cancellationToken);
        }

        return TypedResults.NoContent();
    }
}
