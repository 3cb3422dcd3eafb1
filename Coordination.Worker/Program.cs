using Coordination.Worker;
using Coordination.Worker.Duties;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

// With cache warming the worker competes for the warming lock with every other node that adds WithCacheWarming. It
// registers no warmers (WithCacheWarmer) and no read-through loaders, so while it holds the lock it runs no warmer and
// reloads no hot key: a hot key is reloaded only by a lock holder that has its loader. Options:
// Coordination:Cache:Warming, validated at start.
builder.AddCoordination()
    .WithCacheWarming()
    .WithNodeReports("worker");

builder.Services.AddOptions<WorkerOptions>()
    .BindConfiguration(WorkerOptions.SectionName)
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddHostedService<AlertingService>();
builder.Services.AddHostedService<HeartbeatService>();
builder.Services.AddHostedService<SessionCleanupService>();
builder.Services.AddHostedService<SessionMigrationService>();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
