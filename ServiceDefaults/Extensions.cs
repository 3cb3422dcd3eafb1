using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Service defaults shared by every service of the platform: OpenTelemetry (logs, metrics,
/// traces), default health checks, service discovery and resilient <see cref="HttpClient"/>s.
/// </summary>
/// <remarks>
/// Call <see cref="AddServiceDefaults{TBuilder}(TBuilder)"/> first in <c>Program.cs</c> and
/// <see cref="MapDefaultEndpoints(WebApplication)"/> after the application endpoints are mapped.
/// </remarks>
public static class Extensions
{
    /// <summary>The path of the readiness endpoint: every registered health check must pass.</summary>
    public const string HealthEndpointPath = "/health";

    /// <summary>The path of the liveness endpoint: only checks tagged <see cref="LiveTag"/> run.</summary>
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>The tag of the health checks that decide liveness (the process answers at all).</summary>
    public const string LiveTag = "live";

    // The platform's own telemetry names. Written out rather than taken from Coordination.Core
    // (CoordinationDiagnostics.MeterName / ActivitySourceName) so ServiceDefaults stays free of
    // a dependency on the library; the two must be kept equal.
    private const string CoordinationTelemetryName = "Coordination";

    // Polly v8 reports resilience events (retries, circuit state, timeouts) on this meter.
    private const string PollyMeterName = "Polly";

    /// <summary>
    /// Adds the service defaults: OpenTelemetry, the default health checks, service discovery,
    /// and the standard resilience handler plus service discovery on every <see cref="HttpClient"/>
    /// built through <see cref="IHttpClientFactory"/>.
    /// </summary>
    /// <typeparam name="TBuilder">The kind of host builder.</typeparam>
    /// <param name="builder">The host builder to configure.</param>
    /// <returns>The same <paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        return builder;
    }

    /// <summary>
    /// Configures OpenTelemetry logging, metrics and tracing: ASP.NET Core, <see cref="HttpClient"/>,
    /// runtime and StackExchange.Redis instrumentation, the meter and activity source
    /// <c>Coordination</c> and Polly's meter. Exports over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the Aspire AppHost sets it).
    /// </summary>
    /// <typeparam name="TBuilder">The kind of host builder.</typeparam>
    /// <param name="builder">The host builder to configure.</param>
    /// <returns>The same <paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter(CoordinationTelemetryName)
                .AddMeter(PollyMeterName))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(CoordinationTelemetryName)
                // Probes hit the health endpoints every few seconds; their spans are noise.
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsHealthRequest(context))
                .AddHttpClientInstrumentation()
                // Traces the IConnectionMultiplexer registered in DI, if any; other multiplexers
                // join through ConfigureRedisInstrumentation(...).AddConnection(...).
                .AddRedisInstrumentation());

        builder.AddOpenTelemetryExporters();

        return builder;
    }

    /// <summary>
    /// Adds the default health checks: a <c>self</c> check tagged <see cref="LiveTag"/> that
    /// passes while the process can answer at all.
    /// </summary>
    /// <typeparam name="TBuilder">The kind of host builder.</typeparam>
    /// <param name="builder">The host builder to configure.</param>
    /// <returns>The same <paramref name="builder"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="builder"/> is <see langword="null"/>.</exception>
    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);

        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);

        return builder;
    }

    /// <summary>
    /// Maps <c>/health</c> (every health check; 200 when all pass, 503 otherwise) and
    /// <c>/alive</c> (only checks tagged <see cref="LiveTag"/>).
    /// </summary>
    /// <remarks>
    /// Mapped in every environment, Production included, because orchestrators probe them there.
    /// The answer is the aggregate status word only (<c>Healthy</c>, <c>Degraded</c> or
    /// <c>Unhealthy</c>): no check names, descriptions, exceptions or data, so nothing secret
    /// can leak through them.
    /// </remarks>
    /// <param name="app">The application to map the endpoints on.</param>
    /// <returns>The same <paramref name="app"/>, for chaining.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="app"/> is <see langword="null"/>.</exception>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The default response writer prints only HealthReport.Status: keep it that way.
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = registration => registration.Tags.Contains(LiveTag),
        });

        return app;
    }

    private static TBuilder AddOpenTelemetryExporters<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var useOtlpExporter = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        if (useOtlpExporter)
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    private static bool IsHealthRequest(HttpContext context) =>
        context.Request.Path.StartsWithSegments(HealthEndpointPath, StringComparison.OrdinalIgnoreCase)
        || context.Request.Path.StartsWithSegments(AlivenessEndpointPath, StringComparison.OrdinalIgnoreCase);
}
