using System.Globalization;
using Coordination.Api.Problems;
using Microsoft.AspNetCore.Mvc;

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
        var problems = app.ApplicationServices.GetRequiredService<IProblemDetailsService>();
        return app.Use(async (context, next) =>
        {
            if (context.Request.Headers.ContainsKey(ApiKeyDefaults.HeaderName)
                && tracker.IsBlocked(context.Connection.RemoteIpAddress, out var retryAfter))
            {
                var seconds = (int)Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds));
                context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                var problem = new ProblemDetails
                {
                    Type = ProblemTypes.TooManyAuthenticationFailures,
                    Title = "Too many failed authentication attempts",
                    Status = StatusCodes.Status429TooManyRequests,
                    Detail = $"Too many requests with an invalid {ApiKeyDefaults.HeaderName} came from this address; retry after {seconds} s.",
                };
                if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
                {
                    await context.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
                }

                return;
            }

            await next(context);
        });
    }
}
