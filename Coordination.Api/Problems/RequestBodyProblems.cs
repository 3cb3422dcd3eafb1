using System.Text;
using System.Text.Json;
using Coordination.Api.Validation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Coordination.Api.Problems;

/// <summary>
/// Answers a request body that could not be bound to the endpoint's request record (the
/// <see cref="BadHttpRequestException"/> minimal APIs throw with <see cref="RouteHandlerOptions.ThrowOnBadRequest"/>)
/// with the same 400 validation problem the endpoints give, naming the field: the JSON property that has the wrong
/// type or an out-of-range number, or <c>body</c> for a missing, malformed or non-object body; and a body over the
/// endpoint's <see cref="RequestBodyLimit"/> (which the binder answers 413 without throwing) with the same 400 naming
/// <see cref="RequestBodyLimit.Field"/>.
/// </summary>
internal static class RequestBodyProblems
{
    /// <summary>The field named when the body as a whole is at fault.</summary>
    public const string BodyField = "body";

    // The message for a body that is not valid UTF-8.
    private const string InvalidUtf8Message = "The body is not valid UTF-8.";

    private static readonly Func<StatusCodeContext, Task> DefaultStatusCodePage = new StatusCodePagesOptions().HandleAsync;

    /// <summary>
    /// The problem for <paramref name="exception"/>: a 400 validation problem, or for a refusal that is not about the
    /// caller's data (415: not JSON) a plain problem with the exception's status.
    /// </summary>
    public static ProblemDetails Create(HttpContext context, BadHttpRequestException exception)
    {
        var errors = new RequestErrors();

        // The exception handler has cleared the request's endpoint; the feature keeps the one that threw.
        var endpoint = context.Features.Get<IExceptionHandlerFeature>()?.Endpoint ?? context.GetEndpoint();
        switch (exception)
        {
            case { InnerException: JsonException json }:
                var bodyType = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType;
                var (field, message) = Describe(json, bodyType, context.RequestServices);
                errors.Add(field, message);
                break;

            case { StatusCode: StatusCodes.Status400BadRequest }:
                // The body is absent (or the JSON literal null): the only other 400 binding a body gives.
                errors.Add(BodyField, "A JSON body is required.");
                break;

            case { StatusCode: StatusCodes.Status415UnsupportedMediaType }:
                return new ProblemDetails { Status = exception.StatusCode, Detail = "Send the body as JSON (Content-Type: application/json)." };

            default:
                return new ProblemDetails { Status = exception.StatusCode };
        }

        return errors.ToProblemDetails();
    }

    /// <summary>
    /// The status code page (<c>UseStatusCodePages</c>) of an answer without a body: the 413 of a body over the
    /// endpoint's <see cref="RequestBodyLimit"/> becomes the 400 naming its field, written as the endpoints write
    /// theirs; any other status gets the framework's default page.
    /// </summary>
    public static Task WriteStatusCodePageAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        if (http.Response.StatusCode != StatusCodes.Status413PayloadTooLarge
            || http.GetEndpoint()?.Metadata.GetMetadata<RequestBodyLimit>() is not { } limit)
        {
            return DefaultStatusCodePage(context);
        }

        var errors = new RequestErrors();
        errors.Add(limit.Field, $"The request body must be at most {limit.MaxRequestBodySize} bytes.");
        return errors.ToProblem().ExecuteAsync(http);
    }

    private static (string Field, string Message) Describe(JsonException exception, Type? bodyType, IServiceProvider services)
    {
        switch (exception.InnerException)
        {
            // The reader's own exception: the text is not JSON at all.
            case JsonException syntax:
                return (BodyField, $"The body is not valid JSON: {syntax.Message}");

            // Utf8RequestBodyStream's: JSON must be UTF-8 (RFC 8259).
            case DecoderFallbackException:
                return (BodyField, InvalidUtf8Message);
        }

        // Otherwise valid JSON of the wrong shape: the path says where ("$" for the body itself, "$.ttlMs", "$.tags[3]").
        var path = exception.Path;
        if (string.IsNullOrEmpty(path) || !path.StartsWith("$.", StringComparison.Ordinal))
        {
            return (BodyField, "The body must be a JSON object.");
        }

        var end = path.IndexOfAny(['.', '['], 2);
        var name = end < 0 ? path[2..] : path[2..end];
        var field = JsonNameOf(name, bodyType, services) + (end < 0 ? "" : path[end..]);
        return (field, $"The {field} has the wrong JSON type or is out of range; see the request schema.");
    }

    // The property as the request schema names it, whatever case the client used.
    private static string JsonNameOf(string name, Type? bodyType, IServiceProvider services)
    {
        if (bodyType is null)
        {
            return name;
        }

        var typeInfo = services.GetRequiredService<IOptions<HttpJsonOptions>>().Value.SerializerOptions.GetTypeInfo(bodyType);
        return typeInfo.Properties.FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))?.Name ?? name;
    }
}
