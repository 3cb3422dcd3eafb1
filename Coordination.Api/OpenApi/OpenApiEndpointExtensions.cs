using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Coordination.Api.OpenApi;

/// <summary>OpenAPI descriptions for endpoints that read their body themselves.</summary>
internal static class OpenApiEndpointExtensions
{
    /// <summary>
    /// Documents a required JSON body of type <typeparamref name="TBody"/> without adding accepts-metadata, which
    /// would make routing answer 415 to any other content type before authentication and validation run.
    /// </summary>
    public static RouteHandlerBuilder WithJsonRequestBody<TBody>(this RouteHandlerBuilder builder) =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(TBody), cancellationToken: cancellationToken);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/json"] = new OpenApiMediaType { Schema = schema },
                },
            };
        });
}
