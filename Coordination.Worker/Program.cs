using Coordination.Worker;
using Coordination.Worker.Duties;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddCoordination();

builder.Services.AddOptions<WorkerOptions>()
    .BindConfiguration(WorkerOptions.SectionName)
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddHostedService<AlertingService>();
builder.Services.AddHostedService<HeartbeatService>();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
