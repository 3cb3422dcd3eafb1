using System.Threading.RateLimiting;
using Coordination.Api.Authentication;
using Coordination.Api.Problems;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Coordination.Api.Limits;

/// <summary>
/// A bulkhead per tenant (<see cref="TenantConcurrencyOptions"/>), built on ASP.NET Core's rate limiting middleware:
/// one concurrency limiter per tenant, so one tenant's queue never delays another's requests. Requests without a
/// tenant (health, status, failed authentication) are not limited here: status answers are cached and failed keys are
/// throttled by address.
/// </summary>
internal static class TenantConcurrencyExtensions
{
    public static IServiceCollection AddTenantConcurrency(this IServiceCollection services)
    {
        services.AddOptions<TenantConcurrencyOptions>()
            .BindConfiguration(TenantConcurrencyOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<TenantConcurrencyOptions>>((limiter, tenantOptions) =>
        {
            var options = tenantOptions.Value;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, (string Tenant, bool Large)>(context =>
                context.User.FindFirst(ApiKeyDefaults.TenantClaimType)?.Value is { } tenant
                    ? RateLimitPartition.GetConcurrencyLimiter((Tenant: tenant, Large: IsLarge(context.Request, options)), key => new ConcurrencyLimiterOptions
                    {
                        PermitLimit = key.Large ? options.LargeBodyPermitLimit : options.PermitLimit,
                        QueueLimit = options.QueueLimit,
                        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                    })
                    : RateLimitPartition.GetNoLimiter((string.Empty, false)));
            limiter.OnRejected = WriteRejectionAsync;
        });
        return services;
    }

    /// <summary>A body above the threshold, or one whose length is not declared (chunked), may be large.</summary>
    private static bool IsLarge(HttpRequest request, TenantConcurrencyOptions options) =>
        request.ContentLength is { } length ? length > options.LargeBodyBytes : request.Headers.TransferEncoding.Count > 0;

    private static async ValueTask WriteRejectionAsync(OnRejectedContext rejected, CancellationToken cancellationToken)
    {
        rejected.HttpContext.Response.Headers.RetryAfter = "1";
        await ProblemResponses.WriteAsync(
            rejected.HttpContext,
            StatusCodes.Status429TooManyRequests,
            ProblemTypes.TooManyRequests,
            "Too many requests",
            "This tenant has too many requests in progress and waiting on this replica; retry after 1 s.");
    }
}
