using System.Text.Json;
using System.Text.Json.Serialization;
using Coordination.Api.Apis;
using Coordination.Api.Authentication;
using Coordination.Api.Limits;
using Coordination.Api.OpenApi;
using Coordination.Api.Problems;
using Coordination.Api.Validation;
using Microsoft.Extensions.Options;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
// Every replica reports the hot keys of its tenants' caches; a replica that (re)starts loads the hottest ones into its
// memory level before it listens (Coordination:Cache:HotKeys). The API reads cached values as JsonElement.
// Every replica reports itself into Redis for /v1/status (Coordination:Nodes).
// Alerts: every replica evaluates its own rules and the nodes notify each incident once (Coordination:Alerts, validated at start).
builder.AddCoordination()
    .WithHotKeyWarming<JsonElement>()
    .WithNodeReports("api")
    .WithAlerts();
builder.AddApiKeyAuthentication();
builder.Services.AddTenantLimits();

builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemTypeDefaults.Apply);
builder.Services.AddExceptionHandler<CoordinationExceptionHandler>();

// Request bodies bind to the Models/*Request records: numbers only as JSON numbers (the web default also reads them
// from strings), and a body that cannot be bound throws, so CoordinationExceptionHandler answers it as a 400 naming
// the field in every environment (the default only logs it and answers an empty 400 outside Development).
builder.Services.ConfigureHttpJsonOptions(options => options.SerializerOptions.NumberHandling = JsonNumberHandling.Strict);
builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
builder.Services.AddOptions<StatusOptions>().BindConfiguration(StatusOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton<StatusSnapshotCache>();
builder.Services.AddSingleton<NodeSnapshotCache>();

builder.Services.AddOptions<OpenApiDocumentOptions>().BindConfiguration(OpenApiDocumentOptions.SectionName);
builder.Services.AddOpenApi(options => options
    .AddDocumentTransformer<ApiKeySecurityTransformer>()
    .AddOperationTransformer<ApiKeySecurityTransformer>());

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages(RequestBodyProblems.WriteStatusCodePageAsync);
app.UseAuthenticationThrottle();
app.UseAuthentication();
app.UseAuthorization();
app.UseRateLimiter();
app.UseUtf8RequestBodies();

if (app.Services.GetRequiredService<IOptions<OpenApiDocumentOptions>>().Value.IsEnabledIn(app.Environment))
{
    app.MapOpenApi();
}

app.MapKeyValueApi();
app.MapLocksApi();
app.MapCacheApi();
app.MapSessionsApi();
app.MapRateLimitApi();
app.MapStatusApi();

app.MapDefaultEndpoints();

app.Run();

/// <summary>The entry point, public so tests can start the API with <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
