using System.Globalization;
using System.Threading.RateLimiting;
using Coordination.Api.Authentication;

namespace Coordination.Api.Limits;

/// <summary>
/// The API's global limiter: each request of a tenant first takes a permit of the tenant's bulkhead on this replica
/// (<see cref="TenantConcurrencyOptions"/>, in memory), then one permit of the tenant's request rate in Redis
/// (<see cref="ApiRateLimitOptions"/>, through <see cref="RedisRateLimiterFactory"/>). The bulkhead comes first so that
/// the rate check's own Redis call is one of the tenant's bounded requests in progress.
/// </summary>
/// <remarks>
/// Every decision of the request rate writes <c>RateLimit-Limit</c>, <c>RateLimit-Remaining</c> and
/// <c>RateLimit-Reset</c> on the response, granted or refused, as the response starts (so answers the exception handler
/// writes, which clears earlier headers, carry them too). When Redis cannot decide
/// (<see cref="CoordinationUnavailableException"/>) or the policy is missing, the request goes ahead with its bulkhead
/// permit only: the limiter protects Redis from volume, and refusing every request while Redis is away would also
/// refuse what the PostgreSQL fallback can still serve.
/// </remarks>
internal sealed partial class TenantLimiter(
    PartitionedRateLimiter<HttpContext> bulkhead,
    PartitionedRateLimiter<HttpContext> requestRate,
    ILogger<TenantLimiter> logger) : PartitionedRateLimiter<HttpContext>
{
    public const string LimitHeader = "RateLimit-Limit";
    public const string RemainingHeader = "RateLimit-Remaining";
    public const string ResetHeader = "RateLimit-Reset";

    private const string VersionPrefix = "/v1";

    /// <summary>
    /// The request-rate limiter of the API: per tenant, for the <c>/v1</c> endpoints only (health, the OpenAPI document
    /// and endpoints marked <see cref="OutsideTenantRequestRate"/>, such as status, are not counted), nothing for
    /// requests without a tenant.
    /// </summary>
    public static PartitionedRateLimiter<HttpContext> CreateRequestRate(ApiRateLimitOptions options, ICoordinatorFactory coordinators) =>
        RedisRateLimiterFactory.CreatePartitioned<HttpContext>(context =>
            options.Enabled
            && context.Request.Path.StartsWithSegments(VersionPrefix, StringComparison.OrdinalIgnoreCase)
            && context.User.FindFirst(ApiKeyDefaults.TenantClaimType)?.Value is { } tenant
            && context.GetEndpoint()?.Metadata.GetMetadata<OutsideTenantRequestRate>() is null
                ? new RedisRateLimitPartition(coordinators.ForTenant(tenant).RateLimits, options.Policy, ApiRateLimitOptions.RequestKey)
                : null);

    /// <summary>Whether <paramref name="lease"/> is the request rate's refusal (otherwise it is the bulkhead's).</summary>
    public static bool IsRateRefusal(RateLimitLease lease, out RateLimitDecision? decision) =>
        lease.TryGetMetadata(RedisRateLimiter.DecisionMetadataName, out decision) && decision is not null;

    /// <summary>Writes the <c>RateLimit-*</c> headers of <paramref name="decision"/> (reset in whole seconds, rounded up).</summary>
    public static void WriteHeaders(HttpResponse response, RateLimitDecision decision)
    {
        response.Headers[LimitHeader] = decision.Limit.ToString(CultureInfo.InvariantCulture);
        response.Headers[RemainingHeader] = Math.Max(0, decision.Remaining).ToString(CultureInfo.InvariantCulture);
        response.Headers[ResetHeader] = CeilingSeconds(decision.ResetAfter).ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Whole seconds, rounded up, at least 0.</summary>
    public static long CeilingSeconds(TimeSpan duration) => duration <= TimeSpan.Zero ? 0 : (long)Math.Ceiling(duration.TotalSeconds);

    public override RateLimiterStatistics? GetStatistics(HttpContext resource) => bulkhead.GetStatistics(resource);

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        // A request the rate limits can only be decided asynchronously (a failed attempt sends the middleware to
        // AcquireAsync); one it does not limit is the bulkhead's alone.
        var rate = requestRate.AttemptAcquire(resource, permitCount);
        if (!rate.IsAcquired)
        {
            return rate;
        }

        rate.Dispose();
        return bulkhead.AttemptAcquire(resource, permitCount);
    }

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        var permit = await bulkhead.AcquireAsync(resource, permitCount, cancellationToken);
        if (!permit.IsAcquired)
        {
            return permit;
        }

        RateLimitLease rate;
        try
        {
            rate = await requestRate.AcquireAsync(resource, permitCount, cancellationToken);
        }
        catch (CoordinationUnavailableException unavailable)
        {
            LogRateUnchecked(logger, unavailable.Reason);
            return permit;
        }
        catch (RateLimitPolicyNotFoundException missing)
        {
            LogPolicyMissing(logger, missing.Policy);
            return permit;
        }
        catch
        {
            permit.Dispose();
            throw;
        }

        if (IsRateRefusal(rate, out var decision))
        {
            // When the response starts: the exception handler clears the headers written before it answers.
            resource.Response.OnStarting(
                static state =>
                {
                    var (response, decision) = ((HttpResponse, RateLimitDecision))state;
                    WriteHeaders(response, decision);
                    return Task.CompletedTask;
                },
                (resource.Response, decision!));
        }

        if (!rate.IsAcquired)
        {
            permit.Dispose();
            return rate;
        }

        return new BothLeases(permit, rate);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            bulkhead.Dispose();
            requestRate.Dispose();
        }

        base.Dispose(disposing);
    }

    [LoggerMessage(EventId = 110, EventName = "RequestRateUnchecked", Level = LogLevel.Warning, Message = "A request's rate limit could not be checked: Redis is unavailable ({Reason}). The request went ahead (fail open); the tenant's bulkhead still bounds it.")]
    private static partial void LogRateUnchecked(ILogger logger, UnavailableReason reason);

    [LoggerMessage(EventId = 111, EventName = "RequestRatePolicyMissing", Level = LogLevel.Warning, Message = "The request rate policy '{Policy}' does not exist; the request went ahead unlimited. Define it under Coordination:RateLimiting:Policies.")]
    private static partial void LogPolicyMissing(ILogger logger, string policy);

    /// <summary>A bulkhead permit and a request-rate lease, ended together when the request ends.</summary>
    private sealed class BothLeases(RateLimitLease permit, RateLimitLease rate) : RateLimitLease
    {
        public override bool IsAcquired => true;

        public override IEnumerable<string> MetadataNames => rate.MetadataNames.Concat(permit.MetadataNames);

        public override bool TryGetMetadata(string metadataName, out object? metadata) =>
            rate.TryGetMetadata(metadataName, out metadata) || permit.TryGetMetadata(metadataName, out metadata);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rate.Dispose();
                permit.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
