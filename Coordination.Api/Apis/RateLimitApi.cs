using System.Diagnostics.CodeAnalysis;
using System.Security.Claims;
using Coordination.Api.Authentication;
using Coordination.Api.Models;
using Coordination.Api.Problems;
using Coordination.Api.Validation;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.Api.Apis;

/// <summary>
/// <c>/v1/ratelimit</c>: rate limits decided in Redis. Policies are the platform's (defined in configuration under
/// <c>Coordination:RateLimiting:Policies</c> or here), changed by <c>admin</c> keys only (403 for members), with
/// per-tenant overrides; acquisitions and leases always belong to the caller's tenant, which comes from the API key
/// only: a path or body never names the tenant, except the override endpoint's <c>{tenant}</c>, which names whose
/// override an administrator sets. An unknown policy is 404 <c>not-found</c>.
/// </summary>
public static class RateLimitApi
{
    // Five small fields, or a key (at most 512 UTF-8 bytes, 6 per byte in JSON escapes) and two small fields.
    private const int MaxBodyBytes = 16 * 1024;

    private static readonly (string Name, RateLimitAlgorithm Algorithm)[] Algorithms =
    [
        ("fixed-window", RateLimitAlgorithm.FixedWindow),
        ("sliding-window", RateLimitAlgorithm.SlidingWindow),
        ("sliding-log", RateLimitAlgorithm.SlidingLog),
        ("token-bucket", RateLimitAlgorithm.TokenBucket),
        ("gcra", RateLimitAlgorithm.Gcra),
        ("concurrency", RateLimitAlgorithm.Concurrency),
    ];

    /// <summary>Maps the rate-limit endpoints: policy changes need an <c>admin</c> key, the rest a <c>member</c> (or <c>admin</c>) key.</summary>
    public static RouteGroupBuilder MapRateLimitApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/v1/ratelimit")
            .RequireAuthorization(ApiKeyDefaults.MemberPolicy)
            .WithTags("Rate limiting")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapPut("/policies/{policy}", SetPolicy)
            .RequireAuthorization(ApiKeyDefaults.AdminPolicy)
            .WithName("SetRateLimitPolicy")
            .WithSummary("Creates or replaces a policy for every tenant without an override (admin).")
            .WithRequestBodyLimit(MaxBodyBytes);

        api.MapPut("/policies/{policy}/tenants/{tenant}", SetOverride)
            .RequireAuthorization(ApiKeyDefaults.AdminPolicy)
            .WithName("SetRateLimitOverride")
            .WithSummary("Creates or replaces one tenant's override of a policy (admin).")
            .WithRequestBodyLimit(MaxBodyBytes);

        api.MapGet("/policies/{policy}", GetPolicy)
            .WithName("GetRateLimitPolicy")
            .WithSummary("The policy as it applies to the caller's tenant (its override, else the policy); 404 when there is none.")
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapPost("/{policy}/acquire", Acquire)
            .WithName("AcquireRateLimit")
            .WithSummary("Takes permits from the key's allowance under the policy; 200 with allowed true or false, 404 for an unknown policy.")
            .WithRequestBodyLimit(MaxBodyBytes)
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapPost("/acquire", AcquireLevels)
            .WithName("AcquireRateLimitLevels")
            .WithSummary("Takes permits from several levels (tenant, user, endpoint) all or nothing; 200 with allowed true or false, 404 for an unknown policy.")
            .WithRequestBodyLimit(MaxBodyBytes)
            .ProducesProblem(StatusCodes.Status404NotFound);

        api.MapDelete("/{policy}/leases/{leaseId}", ReleaseLease)
            .WithName("ReleaseRateLimitLease")
            .WithSummary("Ends a lease of a concurrency policy; 404 when the lease is not held (released, expired, or not the tenant's).")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return api;
    }

    /// <summary>PUT (admin): 204; 400 naming <c>policy</c>, <c>algorithm</c>, <c>limit</c>, <c>periodMs</c>, <c>burst</c> or <c>body</c>.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> SetPolicy(
        [FromRoute(Name = "policy")] string? routePolicy,
        [FromBody] SetRateLimitPolicyRequest request,
        HttpContext context,
        [AsParameters] RateLimitServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var policy = RouteSegment.Decode(context, routePolicy, fromEnd: 0);
        IsValidPolicy(policy, errors);
        var definition = ReadDefinition(request, errors);
        if (errors.Any || policy is null || definition is null)
        {
            return errors.ToProblem();
        }

        await services.Policies.SetAsync(policy, definition, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>PUT (admin): 204; 400 naming <c>policy</c>, <c>tenant</c>, <c>algorithm</c>, <c>limit</c>, <c>periodMs</c>, <c>burst</c> or <c>body</c>.</summary>
    public static async Task<Results<NoContent, ValidationProblem>> SetOverride(
        [FromRoute(Name = "policy")] string? routePolicy,
        [FromRoute(Name = "tenant")] string? tenant,
        [FromBody] SetRateLimitPolicyRequest request,
        HttpContext context,
        [AsParameters] RateLimitServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var policy = RouteSegment.Decode(context, routePolicy, fromEnd: 2);
        IsValidPolicy(policy, errors);
        if (!CoordinationLimits.IsValidSegment(tenant))
        {
            errors.Add("tenant", "tenant must be 1..64 characters of letters, digits, '.', '_' or '-'.");
        }

        var definition = ReadDefinition(request, errors);
        if (errors.Any || policy is null || tenant is null || definition is null)
        {
            return errors.ToProblem();
        }

        await services.Policies.SetOverrideAsync(policy, tenant, definition, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>GET: 200 with the policy as it applies to the caller's tenant; 404; 400 naming <c>policy</c>.</summary>
    public static async Task<Results<Ok<RateLimitPolicyResponse>, ProblemHttpResult, ValidationProblem>> GetPolicy(
        [FromRoute(Name = "policy")] string? routePolicy,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] RateLimitServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var policy = RouteSegment.Decode(context, routePolicy, fromEnd: 0);
        if (!IsValidPolicy(policy, errors))
        {
            return errors.ToProblem();
        }

        var definition = await RateLimits(services, user).GetPolicyAsync(policy, cancellationToken);
        if (definition is null)
        {
            return TypedResults.Problem(PolicyNotFound(policy));
        }

        return TypedResults.Ok(new RateLimitPolicyResponse(
            policy,
            NameOf(definition.Algorithm),
            definition.Limit,
            (long)Math.Ceiling(definition.Period.TotalMilliseconds),
            definition.Burst,
            definition.Adaptive));
    }

    /// <summary>
    /// POST acquire: 200 with the decision (allowed or not; <c>leaseId</c> for a granted concurrency lease); 404 for an
    /// unknown policy; 400 naming <c>policy</c>, <c>key</c>, <c>permits</c>, <c>priority</c> or <c>body</c>.
    /// </summary>
    public static async Task<Results<Ok<RateLimitDecisionResponse>, ValidationProblem>> Acquire(
        [FromRoute(Name = "policy")] string? routePolicy,
        [FromBody] AcquireRateLimitRequest request,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] RateLimitServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var policy = RouteSegment.Decode(context, routePolicy, fromEnd: 1);
        IsValidPolicy(policy, errors);
        RequestValidation.IsValidName(request.Key, "key", errors);
        var permits = ReadPermits(request.Permits, errors);
        var priority = ReadPriority(request.Priority, errors);
        if (errors.Any || policy is null || request.Key is null)
        {
            return errors.ToProblem();
        }

        // RateLimitPolicyNotFoundException becomes 404 not-found in CoordinationExceptionHandler.
        var decision = await RateLimits(services, user).AcquireAsync(policy, request.Key, permits, priority, cancellationToken);
        return TypedResults.Ok(RateLimitDecisionResponse.From(decision));
    }

    /// <summary>
    /// POST acquire over levels: 200 with the decision (allowed or not, each level's answer); 404 for an unknown policy;
    /// 400 naming <c>levels</c>, <c>levels[i].policy</c>, <c>levels[i].key</c>, <c>permits</c>, <c>priority</c> or <c>body</c>.
    /// </summary>
    public static async Task<Results<Ok<RateLimitLevelsDecisionResponse>, ValidationProblem>> AcquireLevels(
        [FromBody] AcquireRateLimitLevelsRequest request,
        ClaimsPrincipal user,
        [AsParameters] RateLimitServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var levels = ReadLevels(request.Levels, errors);
        var permits = ReadPermits(request.Permits, errors);
        var priority = ReadPriority(request.Priority, errors);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // A concurrency policy among the levels is an ArgumentException (400), an unknown one a 404, both from the
        // library through CoordinationExceptionHandler.
        var decision = await RateLimits(services, user).AcquireAllAsync(levels, permits, priority, cancellationToken);
        return TypedResults.Ok(RateLimitLevelsDecisionResponse.From(decision));
    }

    /// <summary>DELETE lease: 204 when the lease was held and is now released; 404 when it was not held or the policy is unknown; 400 naming <c>policy</c> or <c>leaseId</c>.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult, ValidationProblem>> ReleaseLease(
        [FromRoute(Name = "policy")] string? routePolicy,
        [FromRoute(Name = "leaseId")] string? routeLeaseId,
        HttpContext context,
        ClaimsPrincipal user,
        [AsParameters] RateLimitServices services,
        CancellationToken cancellationToken)
    {
        var errors = new RequestErrors();
        var policy = RouteSegment.Decode(context, routePolicy, fromEnd: 2);
        var leaseId = RouteSegment.Decode(context, routeLeaseId, fromEnd: 0);
        IsValidPolicy(policy, errors);
        RequestValidation.IsValidName(leaseId, "leaseId", errors);
        if (errors.Any || policy is null || leaseId is null)
        {
            return errors.ToProblem();
        }

        if (!await RateLimits(services, user).ReleaseAsync(policy, leaseId, cancellationToken))
        {
            return TypedResults.Problem(
                type: ProblemTypes.NotFound,
                title: "Not found",
                detail: "The tenant holds no lease with this id under this policy: it was released, it expired, or it was never issued.",
                statusCode: StatusCodes.Status404NotFound);
        }

        return TypedResults.NoContent();
    }

    /// <summary>The 404 of a policy that does not exist (for the caller's tenant); the name is the caller's own input.</summary>
    public static ProblemDetails PolicyNotFound(string policy) => new()
    {
        Type = ProblemTypes.NotFound,
        Title = "Not found",
        Status = StatusCodes.Status404NotFound,
        Detail = "No rate-limit policy has this name.",
        Extensions = { ["policy"] = policy },
    };

    /// <summary>The wire name of <paramref name="algorithm"/>.</summary>
    public static string NameOf(RateLimitAlgorithm algorithm) =>
        Array.Find(Algorithms, a => a.Algorithm == algorithm).Name ?? algorithm.ToString();

    /// <summary>Policy names are 1..64 letters, digits, '.', '_' or '-' (the library's rule for names that are part of every key).</summary>
    private static bool IsValidPolicy([NotNullWhen(true)] string? policy, RequestErrors errors)
    {
        if (CoordinationLimits.IsValidSegment(policy))
        {
            return true;
        }

        errors.Add("policy", "policy must be 1..64 characters of letters, digits, '.', '_' or '-'.");
        return false;
    }

    private static IRateLimitService RateLimits(RateLimitServices services, ClaimsPrincipal user) =>
        services.Coordinators.ForTenant(user.GetTenant()).RateLimits;

    private static RateLimitPolicy? ReadDefinition(SetRateLimitPolicyRequest request, RequestErrors errors)
    {
        RateLimitAlgorithm? algorithm = null;
        if (string.IsNullOrEmpty(request.Algorithm))
        {
            errors.Add("algorithm", $"algorithm is required: one of {AlgorithmNames()}.");
        }
        else if (Array.FindIndex(Algorithms, a => string.Equals(a.Name, request.Algorithm, StringComparison.OrdinalIgnoreCase)) is var index and >= 0)
        {
            algorithm = Algorithms[index].Algorithm;
        }
        else
        {
            errors.Add("algorithm", $"algorithm must be one of {AlgorithmNames()}.");
        }

        if (request.Limit is not >= 1)
        {
            errors.Add("limit", "limit is required: a whole number of at least 1.");
        }

        var period = RequestValidation.ReadRequiredDuration(request.PeriodMs, "periodMs", errors);
        if (request.Burst is < 1)
        {
            errors.Add("burst", "burst must be a whole number of at least 1 (absent means limit).");
        }

        if (errors.Any || algorithm is null || period is null || request.Limit is null)
        {
            return null;
        }

        return new RateLimitPolicy
        {
            Algorithm = algorithm.Value,
            Limit = request.Limit.Value,
            Period = period.Value,
            Burst = request.Burst,
            Adaptive = request.Adaptive ?? false,
        };
    }

    private static RateLimitLevel[] ReadLevels(IReadOnlyList<RateLimitLevelRequest?>? requested, RequestErrors errors)
    {
        if (requested is null || requested.Count is 0 or > IRateLimitService.MaxLevels)
        {
            errors.Add("levels", $"levels is required: 1 to {IRateLimitService.MaxLevels} levels, each with a policy and a key.");
            return [];
        }

        var levels = new List<RateLimitLevel>(requested.Count);
        for (var i = 0; i < requested.Count; i++)
        {
            var level = requested[i];
            var policyValid = CoordinationLimits.IsValidSegment(level?.Policy);
            if (!policyValid)
            {
                errors.Add($"levels[{i}].policy", "policy must be 1..64 characters of letters, digits, '.', '_' or '-'.");
            }

            if (RequestValidation.IsValidName(level?.Key, $"levels[{i}].key", errors) && policyValid)
            {
                levels.Add(new RateLimitLevel(level!.Policy!, level.Key!));
            }
        }

        if (levels.Count == requested.Count && levels.Distinct().Count() != levels.Count)
        {
            errors.Add("levels", "levels must not name the same policy and key twice.");
        }

        return [.. levels];
    }

    private static int ReadPermits(long? requested, RequestErrors errors)
    {
        var permits = requested ?? 1;
        if (permits is < 1 or > int.MaxValue)
        {
            errors.Add("permits", $"permits must be a whole number from 1 to {int.MaxValue}.");
            return 1;
        }

        return (int)permits;
    }

    private static RateLimitPriority ReadPriority(string? text, RequestErrors errors)
    {
        if (text is null || string.Equals(text, "normal", StringComparison.OrdinalIgnoreCase))
        {
            return RateLimitPriority.Normal;
        }

        if (string.Equals(text, "critical", StringComparison.OrdinalIgnoreCase))
        {
            return RateLimitPriority.Critical;
        }

        errors.Add("priority", "priority must be \"normal\" or \"critical\".");
        return RateLimitPriority.Normal;
    }

    private static string AlgorithmNames() => string.Join(", ", Algorithms.Select(a => a.Name));
}
