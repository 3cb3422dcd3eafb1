using Coordination.Worker;
using Coordination.Worker.Duties;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

// The worker hosts cache warming: with every other node that adds WithCacheWarming it competes for the warming lock;
// while it holds it, it runs the registered warmers (WithCacheWarmer) once and reloads the hot keys every node reports
// through the read-through loaders registered here (WithReadThrough). Options: Coordination:Cache:Warming, validated
// at start.
builder.AddCoordination()
    .WithCacheWarming();

builder.Services.AddOptions<WorkerOptions>()
    .BindConfiguration(WorkerOptions.SectionName)
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddHostedService<AlertingService>();
builder.Services.AddHostedService<HeartbeatService>();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
