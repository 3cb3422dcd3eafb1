using Coordination.Api.Problems;

namespace Coordination.Api.Validation;

/// <summary>Declares an endpoint's <see cref="RequestBodyLimit"/>.</summary>
internal static class RequestBodyLimitExtensions
{
    /// <summary>Limits the body to <paramref name="maxBytes"/>; a larger one answers 400 naming <paramref name="field"/>.</summary>
    public static RouteHandlerBuilder WithRequestBodyLimit(this RouteHandlerBuilder builder, long maxBytes, string field = RequestBodyProblems.BodyField) =>
        builder.WithMetadata(new RequestBodyLimit(maxBytes, field));
}
