using System.Globalization;
using System.Threading.RateLimiting;
using Coordination.Api.Authentication;
using Coordination.Api.Problems;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Coordination.Api.Limits;

/// <summary>
/// The tenant limits of the API, built on ASP.NET Core's rate limiting middleware as one global limiter
/// (<see cref="TenantLimiter"/>): a bulkhead per tenant (<see cref="TenantConcurrencyOptions"/>), one concurrency limiter
/// per tenant on this replica, so one tenant's queue never delays another's requests; then the tenant's request rate
/// across replicas (<see cref="ApiRateLimitOptions"/>), decided in Redis by the platform's own rate limiting. Requests
/// without a tenant (health, status, failed authentication) are not limited here: status answers are cached and failed
/// keys are throttled by address.
/// </summary>
internal static class TenantConcurrencyExtensions
{
    public static IServiceCollection AddTenantLimits(this IServiceCollection services)
    {
        services.AddOptions<TenantConcurrencyOptions>()
            .BindConfiguration(TenantConcurrencyOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<ApiRateLimitOptions>()
            .BindConfiguration(ApiRateLimitOptions.SectionName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ApiRateLimitOptions>, ApiRateLimitOptionsValidator>());
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<TenantConcurrencyOptions>, IOptions<ApiRateLimitOptions>, ICoordinatorFactory, ILoggerFactory>(
            (limiter, tenantOptions, rateOptions, coordinators, loggers) =>
            {
                limiter.GlobalLimiter = new TenantLimiter(
                    CreateBulkhead(tenantOptions.Value),
                    TenantLimiter.CreateRequestRate(rateOptions.Value, coordinators),
                    loggers.CreateLogger<TenantLimiter>());
                limiter.OnRejected = WriteRejectionAsync;
            });
        return services;
    }

    private static PartitionedRateLimiter<HttpContext> CreateBulkhead(TenantConcurrencyOptions options) =>
        PartitionedRateLimiter.Create<HttpContext, (string Tenant, bool Large)>(context =>
            context.User.FindFirst(ApiKeyDefaults.TenantClaimType)?.Value is { } tenant
            && context.GetEndpoint()?.Metadata.GetMetadata<OutsideTenantBulkhead>() is null
                ? RateLimitPartition.GetConcurrencyLimiter((Tenant: tenant, Large: IsLarge(context.Request, options)), key => new ConcurrencyLimiterOptions
                {
                    PermitLimit = key.Large ? options.LargeBodyPermitLimit : options.PermitLimit,
                    QueueLimit = options.QueueLimit,
                    QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                })
                : RateLimitPartition.GetNoLimiter((string.Empty, false)));

    /// <summary>A body above the threshold, or one whose length is not declared (chunked), may be large.</summary>
    private static bool IsLarge(HttpRequest request, TenantConcurrencyOptions options) =>
        request.ContentLength is { } length ? length > options.LargeBodyBytes : request.Headers.TransferEncoding.Count > 0;

    private static async ValueTask WriteRejectionAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        var context = rejected.HttpContext;
        if (TenantLimiter.IsRateRefusal(rejected.Lease, out var decision))
        {
            // The RateLimit-* headers were written with the decision.
            var retryAfterSeconds = Math.Max(1, TenantLimiter.CeilingSeconds(decision!.RetryAfter));
            context.Response.Headers.RetryAfter = retryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await ProblemResponses.WriteAsync(
                context,
                StatusCodes.Status429TooManyRequests,
                ProblemTypes.RateLimited,
                "Rate limited",
                $"This tenant sent more requests than its request policy allows; retry after {retryAfterSeconds} s.");
            return;
        }

        context.Response.Headers.RetryAfter = "1";
        await ProblemResponses.WriteAsync(
            context,
            StatusCodes.Status429TooManyRequests,
            ProblemTypes.TooManyRequests,
            "Too many requests",
            "This tenant has too many requests in progress and waiting on this replica; retry after 1 s.");
    }
}
