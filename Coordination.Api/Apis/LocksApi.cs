using System.Security.Claims;
using Coordination.Api.Authentication;
using Coordination.Api.Limits;
using Coordination.Api.Models;
using Coordination.Api.Problems;
using Coordination.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.Api.Apis;

/// <summary>
/// <c>/v1/locks/{name}</c>: exclusive locks in the caller's tenant for HTTP clients. A lock taken here is a lease:
/// it is tied to no connection and nothing in the API process keeps, renews or releases it. Its holder extends and
/// releases it by token, through any replica, or lets it expire with its <c>ttlMs</c>.
/// </summary>
/// <remarks>
/// <para>
/// A name is one path segment: percent-encode it (<c>orders%2F42</c> for the lock <c>orders/42</c>). A path with
/// more segments answers 400 naming <c>name</c>, never a 404 that would read as "free".
/// </para>
/// <para>
/// <c>waitMs</c> accepts the contract's full range (0 .. 30 days); the wait itself ends at
/// <c>Coordination:Locks:MaxWaitTimeout</c> (1 day by default) like any wait that runs out (409 <c>lock-not-acquired</c>).
/// The request stays open while it waits; the wait is bound to the connection, so a client (or proxy) that gives up
/// stops it and nothing is acquired for it. A request that would wait beyond the tenant's or the lock's bound on
/// waiters is refused at once: 429 <c>too-many-waiters</c> or 409 <c>lock-queue-full</c>, with <c>Retry-After</c>.
/// </para>
/// </remarks>
public static class LocksApi
{
    // The body is four small fields; the owner and the token, the longest, are at most 512 UTF-8 bytes each (6 in
    // JSON escapes each).
    private const int MaxBodyBytes = 16 * 1024;

    /// <summary>Maps the lock endpoints; every one needs a <c>member</c> (or <c>admin</c>) key.</summary>
    public static RouteGroupBuilder MapLocksApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/locks")
            .RequireAuthorization(ApiKeyDefaults.MemberPolicy)
            .WithTags("Locks")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapPost("/{name}", AcquireLock)
            .WithName("AcquireLock")
            .WithSummary("Takes the exclusive lock for ttlMs, waiting up to waitMs; 409 lock-not-acquired (with retryAfterMs), deadlock-detected or lock-queue-full, or 429 too-many-waiters, when it cannot.")
            .WithRequestBodyLimit(MaxBodyBytes)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            // Outside the tenant's bulkhead (Coordination:TenantConcurrency): a waiting acquisition would hold a permit
            // that the holder needs to release the lock. Waits are bounded by the waiter caps instead. The request
            // still counts against the tenant's request rate (Coordination:Api:RateLimit).
            .OutsideTenantBulkhead();

        api.MapPost("/{name}/extend", ExtendLock)
            .WithName("ExtendLock")
            .WithSummary("Restarts the hold's time to live (ttlMs from now); 409 lock-not-held when the token holds nothing.")
            .WithRequestBodyLimit(MaxBodyBytes)
            .ProducesProblem(StatusCodes.Status409Conflict);

        api.MapDelete("/{name}", ReleaseLock)
            .WithName("ReleaseLock")
            .WithSummary("Releases the hold of the token (one count of a re-entered hold); 409 lock-not-held when the token holds nothing.")
            .ProducesProblem(StatusCodes.Status409Conflict);

        api.MapGet("/{name}", GetLock)
            .WithName("GetLock")
            .WithSummary("Reads who holds the lock (never the token); 404 when it is free.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        // Routing prefers the templates above; this only sees paths with an unencoded slash in the name.
        api.MapMethods("/{*rest}", [HttpMethods.Get, HttpMethods.Post, HttpMethods.Delete], UnencodedSlash)
            .ExcludeFromDescription();

        return api;
    }

    /// <summary>
    /// POST: 200 with the token and fencing token; 409 <c>lock-not-acquired</c>, <c>deadlock-detected</c> or
    /// <c>lock-queue-full</c>; 429 <c>too-many-waiters</c>; 400 naming
    /// <c>name</c>, <c>ttlMs</c>, <c>waitMs</c>, <c>owner</c>, <c>token</c> or <c>body</c>. A hold of the named owner is
    /// re-entered only with its token.
    /// </summary>
    public static async Task<Results<Ok<LockAcquiredResponse>, ProblemHttpResult, ValidationProblem>> AcquireLock(
        [FromRoute(Name = "name")] string? routeName,
        [FromBody] AcquireLockRequest request,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] LocksServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var name = RouteSegment.Decode(context, routeName, fromEnd: 0);
        RequestValidation.IsValidName(name, "name", errors);
        var timeToLive = RequestValidation.ReadRequiredDuration(request.TtlMs, "ttlMs", errors);
        var wait = RequestValidation.ReadWait(request.WaitMs, "waitMs", errors);
        var owner = RequestValidation.ReadOptionalName(request.Owner, "owner", errors);
        var token = RequestValidation.ReadOptionalName(request.Token, "token", errors);
        if (errors.Any || name is null || timeToLive is null)
        {
            return errors.ToProblem();
        }

        // A lease, not a handle: no watchdog and nothing kept here. Without an owner the library gives the lease an
        // owner of its own, so every such request is a separate holder for deadlock detection. Owners are public (GET
        // shows them), so naming one re-enters its hold only with that hold's token: the library checks it in the
        // acquire script itself (ReentryToken), and an empty one matches no hold.
        var locks = services.Coordinators.ForTenant(user.GetTenant()).Locks;
        var options = new LockOptions
        {
            TimeToLive = timeToLive,
            WaitTimeout = wait,
            Owner = owner,
            ReentryToken = owner is null ? null : token ?? string.Empty,
        };
        var lease = await locks.TryAcquireLeaseAsync(name, options, cancellationToken);
        if (lease is null)
        {
            var retryAfterMs = await LockProblems.RetryAfterMsAsync(locks, name, cancellationToken);
            return TypedResults.Problem(LockProblems.NotAcquired(context.Response, retryAfterMs));
        }

        return TypedResults.Ok(new LockAcquiredResponse(lease.Name, lease.Token, lease.FencingToken, lease.ExpiresAt));
    }

    /// <summary>POST extend: 200 with the new expiry; 409 <c>lock-not-held</c>; 400 naming <c>name</c>, <c>token</c>, <c>ttlMs</c> or <c>body</c>.</summary>
    public static async Task<Results<Ok<LockExtendedResponse>, ValidationProblem>> ExtendLock(
        [FromRoute(Name = "name")] string? routeName,
        [FromBody] ExtendLockRequest request,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] LocksServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var name = RouteSegment.Decode(context, routeName, fromEnd: 1);
        RequestValidation.IsValidName(name, "name", errors);
        var token = RequestValidation.ReadRequiredString(request.Token, "token", errors);
        var timeToLive = RequestValidation.ReadRequiredDuration(request.TtlMs, "ttlMs", errors);
        if (errors.Any || name is null || token is null || timeToLive is not { } ttl)
        {
            return errors.ToProblem();
        }

        // LockNotHeldException becomes 409 lock-not-held in CoordinationExceptionHandler.
        var expiresAt = await services.Coordinators.ForTenant(user.GetTenant()).Locks.ExtendAsync(name, token, ttl, cancellationToken);
        return TypedResults.Ok(new LockExtendedResponse(expiresAt));
    }

    /// <summary>DELETE: 204; 409 <c>lock-not-held</c>; 400 naming <c>name</c> or <c>token</c>.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> ReleaseLock(
        [FromRoute(Name = "name")] string? routeName,
        [FromQuery] string? token,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] LocksServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var name = RouteSegment.Decode(context, routeName, fromEnd: 0);
        RequestValidation.IsValidName(name, "name", errors);
        if (string.IsNullOrEmpty(token))
        {
            errors.Add("token", "The token is required (query parameter token).");
        }

        if (errors.Any || name is null || token is null)
        {
            return errors.ToProblem();
        }

        // LockNotHeldException becomes 409 lock-not-held in CoordinationExceptionHandler.
        await services.Coordinators.ForTenant(user.GetTenant()).Locks.ReleaseAsync(name, token, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>GET: 200 with the holder, fencing token and time to live left; 404 when the lock is free.</summary>
    public static async Task<Results<Ok<LockInfoResponse>, ProblemHttpResult, ValidationProblem>> GetLock(
        [FromRoute(Name = "name")] string? routeName,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] LocksServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var name = RouteSegment.Decode(context, routeName, fromEnd: 0);
        if (!RequestValidation.IsValidName(name, "name", errors))
        {
            return errors.ToProblem();
        }

        var info = await services.Coordinators.ForTenant(user.GetTenant()).Locks.GetInfoAsync(name, cancellationToken);
        if (info is null)
        {
            return TypedResults.Problem(
                type: ProblemTypes.NotFound,
                title: "Not found",
                detail: "Nobody holds this lock.",
                statusCode: StatusCodes.Status404NotFound);
        }

        var ttlMs = Math.Max(1, (long)Math.Ceiling(info.TimeToLive.TotalMilliseconds));
        return TypedResults.Ok(new LockInfoResponse(name, true, info.Owner, info.FencingToken, ttlMs));
    }

    /// <summary>Any path with more segments than the templates: a name with an unencoded slash.</summary>
    public static ValidationProblem UnencodedSlash()
    {
        var errors = new RequestErrors();
        errors.Add("name", "The lock name must be one path segment: percent-encode a '/' in it as %2F.");
        return errors.ToProblem();
    }
}
