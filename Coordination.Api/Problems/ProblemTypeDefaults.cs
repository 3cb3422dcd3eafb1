namespace Coordination.Api.Problems;

/// <summary>Gives problems written by the framework (unknown route, status code pages) our stable type URIs too.</summary>
internal static class ProblemTypeDefaults
{
    public static void Apply(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        if (problem.Type is not null && !problem.Type.StartsWith("https://tools.ietf.org/", StringComparison.Ordinal))
        {
            return;
        }

        problem.Type = (problem.Status ?? context.HttpContext.Response.StatusCode) switch
        {
            StatusCodes.Status400BadRequest => ProblemTypes.Validation,
            StatusCodes.Status401Unauthorized => ProblemTypes.Unauthorized,
            StatusCodes.Status403Forbidden => ProblemTypes.Forbidden,
            StatusCodes.Status404NotFound => ProblemTypes.NotFound,
            StatusCodes.Status503ServiceUnavailable => ProblemTypes.Unavailable,
            _ => problem.Type,
        };
    }
}
