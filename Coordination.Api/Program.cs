using Coordination.Api.Apis;
using Coordination.Api.OpenApi;
using Coordination.Api.Problems;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCoordination();
builder.AddApiKeyAuthentication();

builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = ProblemTypeDefaults.Apply);
builder.Services.AddExceptionHandler<CoordinationExceptionHandler>();
builder.Services.AddOptions<StatusOptions>().BindConfiguration(StatusOptions.SectionName);

builder.Services.AddOpenApi(options => options
    .AddDocumentTransformer<ApiKeySecurityTransformer>()
    .AddOperationTransformer<ApiKeySecurityTransformer>());

var app = builder.Build();

app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseAuthentication();
app.UseAuthorization();

app.MapOpenApi();
app.MapKeyValueApi();
app.MapLocksApi();
app.MapCacheApi();
app.MapStatusApi();

app.MapDefaultEndpoints();

app.Run();

/// <summary>The entry point, public so tests can start the API with <c>WebApplicationFactory&lt;Program&gt;</c>.</summary>
public partial class Program;
