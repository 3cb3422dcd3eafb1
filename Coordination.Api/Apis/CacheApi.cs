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
/// <c>/v1/cache</c>: the two-level cache (<see cref="ICacheManager"/>) of the caller's tenant for HTTP clients: put,
/// get and remove JSON values with tags, and invalidate by tag or key prefix on every replica. The tenant comes from
/// the API key only, so one tenant can never address another's entries.
/// </summary>
/// <remarks>
/// <para>
/// Keys use the same catch-all route as <c>/v1/kv</c>, so <c>/v1/cache/orders/42</c> addresses the key
/// <c>orders/42</c>. <c>POST /v1/cache/invalidate</c> is not shadowed by it: the key route maps no POST, and routing
/// sends <c>PUT</c>/<c>GET</c>/<c>DELETE /v1/cache/invalidate</c> to the key <c>invalidate</c>.
/// </para>
/// <para>
/// Invalidation is O(1): it stamps each tag (or the prefix) with the Redis clock and entries created before the stamp
/// read as missing, on every replica. No entry is scanned, so <c>invalidated</c> counts the distinct tags plus
/// prefixes invalidated, not entries.
/// </para>
/// </remarks>
public static class CacheApi
{
    /// <summary>
    /// The most tags a request may carry, whatever the library allows; the library's own caps
    /// (<c>Coordination:Cache:MaxTagsPerInvalidation</c> and <c>MaxTagsPerEntry</c>, 32 by default) answer 400 too when
    /// configured lower, through its <see cref="ArgumentException"/>.
    /// </summary>
    public const int MaxTags = 32;

    // Room for the envelope around the value ({"value": ..., "ttlMs": ..., "tags": [...]}: 32 tags of up to 512
    // UTF-8 bytes, 6 bytes per JSON escape at worst); the value's own limit, measured on its compact serialization,
    // is enforced by the library.
    private const int EnvelopeAllowanceBytes = 160 * 1024;

    // Up to 32 tags and a prefix of at most 512 UTF-8 bytes each, as JSON escapes (6 bytes each) at worst.
    private const int MaxInvalidateBodyBytes = 128 * 1024;

    /// <summary>Maps the cache endpoints; every one needs a <c>member</c> (or <c>admin</c>) key.</summary>
    public static RouteGroupBuilder MapCacheApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/cache")
            .RequireAuthorization(ApiKeyDefaults.MemberPolicy)
            .WithTags("Cache")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapPost("/invalidate", Invalidate)
            .WithName("InvalidateCache")
            .WithSummary("Invalidates every entry carrying one of the tags and/or whose key starts with the prefix, on every replica. O(1): entries are not scanned, so 'invalidated' is the number of distinct tags plus prefixes invalidated, not of entries.")
            .WithRequestBodyLimit(MaxInvalidateBodyBytes);

        var maxValueBytes = app.ServiceProvider.GetRequiredService<IOptions<CoordinationOptions>>().Value.MaxValueBytes;

        // A catch-all, so keys such as "orders/42" address one key rather than missing the route.
        api.MapPut("/{*key}", SetEntry)
            .WithName("SetCacheEntry")
            .WithSummary("Caches a JSON value under a key for ttlMs (or the cache's default), with optional tags.")
            .WithRequestBodyLimit((long)maxValueBytes + EnvelopeAllowanceBytes, "value");

        api.MapGet("/{*key}", GetEntry)
            .WithName("GetCacheEntry")
            .WithSummary("Reads a cached value (memory first, then Redis); 404 when missing, expired or invalidated.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapDelete("/{*key}", RemoveEntry)
            .WithName("RemoveCacheEntry")
            .WithSummary("Removes a key from the cache on every replica; succeeds whether or not it existed.");

        return api;
    }

    /// <summary>PUT: 204, or 400 naming <c>key</c>, <c>value</c>, <c>ttlMs</c>, <c>tags</c> or <c>body</c>.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> SetEntry(
        string? key,
        [FromBody] SetCacheEntryRequest request,
        ClaimsPrincipal user,
        [AsParameters] CacheServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        RequestValidation.IsValidName(key, "key", errors);
        var value = RequestValidation.ReadRequiredValue(request.Value, "value", errors);
        var timeToLive = RequestValidation.ReadDuration(request.TtlMs, "ttlMs", errors);
        var tags = RequestValidation.ReadOptionalNames(request.Tags, "tags", MaxTags, errors);
        if (errors.Any || key is null || value is not { } element)
        {
            return errors.ToProblem();
        }

        // The memory level keeps the value itself: a bound JsonElement owns its memory, so it may outlive the request.
        var options = timeToLive is null && tags.Count == 0 ? null : new CacheEntryOptions { TimeToLive = timeToLive, Tags = tags };
        await services.Coordinators.ForTenant(user.GetTenant()).Cache.SetAsync(key, element, options, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>GET: 200 with key and value; 404 when the key is missing, expired or invalidated.</summary>
    public static async Task<Results<Ok<CacheEntryResponse>, ProblemHttpResult, ValidationProblem>> GetEntry(
        string? key,
        ClaimsPrincipal user,
        [AsParameters] CacheServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (!RequestValidation.IsValidName(key, "key", errors))
        {
            return errors.ToProblem();
        }

        var cached = await services.Coordinators.ForTenant(user.GetTenant()).Cache.GetAsync<JsonElement>(key, cancellationToken);
        if (!cached.HasValue)
        {
            return TypedResults.Problem(
                type: ProblemTypes.NotFound,
                title: "Not found",
                detail: "No value is cached under this key.",
                statusCode: StatusCodes.Status404NotFound);
        }

        return TypedResults.Ok(new CacheEntryResponse(key, cached.Value));
    }

    /// <summary>DELETE: 204 whether or not the key existed.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> RemoveEntry(
        string? key,
        ClaimsPrincipal user,
        [AsParameters] CacheServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        if (!RequestValidation.IsValidName(key, "key", errors))
        {
            return errors.ToProblem();
        }

        await services.Coordinators.ForTenant(user.GetTenant()).Cache.RemoveAsync(key, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// POST invalidate: 200 with the number of distinct tags plus prefixes invalidated (entries are not scanned, so
    /// not a count of entries); 400 naming <c>tags</c>, <c>prefix</c> or <c>body</c>.
    /// </summary>
    public static async Task<Results<Ok<InvalidateCacheResponse>, ValidationProblem>> Invalidate(
        [FromBody] InvalidateCacheRequest request,
        ClaimsPrincipal user,
        [AsParameters] CacheServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var tags = RequestValidation.ReadOptionalNames(request.Tags, "tags", MaxTags, errors);
        var prefix = RequestValidation.ReadOptionalName(request.Prefix, "prefix", errors);
        if (!errors.Any && tags.Count == 0 && prefix is null)
        {
            errors.Add("body", "Give at least one tag in tags, a prefix, or both.");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // Two O(1) calls, tags first; each reaches every replica through the backplane.
        var cache = services.Coordinators.ForTenant(user.GetTenant()).Cache;
        if (tags.Count > 0)
        {
            await cache.InvalidateTagsAsync(tags, cancellationToken);
        }

        if (prefix is not null)
        {
            await cache.InvalidateByPrefixAsync(prefix, cancellationToken);
        }

        return TypedResults.Ok(new InvalidateCacheResponse(tags.Count + (prefix is null ? 0 : 1)));
    }
}
