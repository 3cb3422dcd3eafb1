using System.Globalization;
using Coordination.Api.Problems;

namespace Coordination.Api.Authentication;

/// <summary>
/// Answers 429 (<c>Retry-After</c>, problem type <c>too-many-authentication-failures</c>) to any request carrying
/// <c>X-Api-Key</c> from an address that failed authentication too often (<see cref="FailedAuthenticationTracker"/>),
/// before its key is even looked at: a guesser cannot tell a right key from a wrong one while throttled.
/// </summary>
internal static class AuthenticationThrottleMiddleware
{
    /// <summary>Adds the throttle; call it before <c>UseAuthentication</c>.</summary>
    public static IApplicationBuilder UseAuthenticationThrottle(this IApplicationBuilder app)
    {
        var tracker = app.ApplicationServices.GetRequiredService<FailedAuthenticationTracker>();
        return app.Use(async (context, next) =>
        {
            if (context.Request.Headers.ContainsKey(ApiKeyDefaults.HeaderName)
                && tracker.IsBlocked(context.Connection.RemoteIpAddress, out var retryAfter))
            {
                var seconds = (int)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds));
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await ProblemResponses.WriteAsync(
                    context,
                    StatusCodes.Status429TooManyRequests,
                    ProblemTypes.TooManyAuthenticationFailures,
                    "Too many failed authentication attempts",
                    $"Too many requests with an invalid {ApiKeyDefaults.HeaderName} came from this address; retry after {seconds} s.");
                return;
            }

            await next(context);
        });
    }
}
