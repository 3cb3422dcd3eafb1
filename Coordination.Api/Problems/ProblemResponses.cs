using Microsoft.AspNetCore.Mvc;

namespace Coordination.Api.Problems;

/// <summary>
/// Writes a problem answer from outside an endpoint (authentication, middleware, the rate limiter), where no
/// <c>TypedResults.Problem</c> is returned and the exception handler does not run.
/// </summary>
internal static class ProblemResponses
{
    /// <summary>Sets the status and writes the problem through the problem details service, or as plain problem JSON.</summary>
    public static async Task WriteAsync(HttpContext context, int status, string type, string title, string detail)
    {
        context.Response.StatusCode = status;
        var problem = new ProblemDetails { Type = type, Title = title, Status = status, Detail = detail };
        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        if (!await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem }))
        {
            await context.Response.WriteAsJsonAsync(problem, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json", context.RequestAborted);
        }
    }
}
