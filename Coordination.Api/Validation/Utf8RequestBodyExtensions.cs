using Microsoft.AspNetCore.Http.Metadata;

namespace Coordination.Api.Validation;

/// <summary>Installs <see cref="Utf8RequestBodyStream"/>.</summary>
internal static class Utf8RequestBodyExtensions
{
    /// <summary>Checks that the body of every endpoint that binds a JSON body is UTF-8, as the binder reads it.</summary>
    public static IApplicationBuilder UseUtf8RequestBodies(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<IAcceptsMetadata>() is { RequestType: not null })
            {
                context.Request.Body = new Utf8RequestBodyStream(context.Request.Body);
            }

            return next(context);
        });
}
