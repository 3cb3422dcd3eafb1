using Microsoft.AspNetCore.Builder;

namespace Microsoft.Extensions.Hosting;

/// <summary>Service defaults shared by every project of the platform (placeholder until filled in).</summary>
public static class Extensions
{
    /// <summary>Adds the service defaults.</summary>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder => builder;

    /// <summary>Maps the default endpoints.</summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app) => app;
}
