using Coordination.Api.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Coordination.Api.Validation;

/// <summary>Collects what is wrong with a request, per JSON field, to answer one 400 that names every broken field.</summary>
internal sealed class RequestErrors
{
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message) =>
        _errors[field] = _errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];

    /// <summary>The 400 answer of an endpoint.</summary>
    public ValidationProblem ToProblem() => TypedResults.ValidationProblem(_errors, type: ProblemTypes.Validation);

    /// <summary>The same 400 as problem details, for answers written outside an endpoint (the exception handler).</summary>
    public HttpValidationProblemDetails ToProblemDetails() => new(_errors)
    {
        Type = ProblemTypes.Validation,
        Status = StatusCodes.Status400BadRequest,
    };
}
