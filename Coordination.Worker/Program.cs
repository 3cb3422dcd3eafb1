using Coordination;
using Coordination.Worker;
using Coordination.Worker.Duties;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();

// With cache warming the worker competes for the warming lock with every other node that adds WithCacheWarming. It
// registers no warmers (WithCacheWarmer) and no read-through loaders, so while it holds the lock it runs no warmer and
// reloads no hot key: a hot key is reloaded only by a lock holder that has its loader. Options:
// Coordination:Cache:Warming, validated at start.
// Alerts: the worker is one node of the system's alerts like each API replica (Coordination:Alerts, validated at start).
// Duties (Coordination:Worker:Duties:{name}, validated at start) run on one node at a time, under the duty scheduler
// of Coordination.Core; their state is in Redis ({prefix}:#duties:{{prefix}:#duties}:state) for /v1/status.
// Worker:SessionCleanupInterval and Worker:SessionMigrationInterval are still read as the default intervals of
// session-cleanup and session-migration.
builder.AddCoordination()
    .WithCacheWarming()
    .WithAlerts()
    .WithNodeReports("worker")
    .WithDuty<SessionCleanupDuty>(
        SessionCleanupDuty.Name,
        builder.Configuration.GetValue<TimeSpan?>("Worker:SessionCleanupInterval") ?? TimeSpan.FromMinutes(1))
    .WithDuty<SessionMigrationDuty>(
        SessionMigrationDuty.Name,
        builder.Configuration.GetValue<TimeSpan?>("Worker:SessionMigrationInterval") ?? TimeSpan.FromSeconds(30))
    .WithDuty<FallbackPurgeDuty>(FallbackPurgeDuty.Name, TimeSpan.FromMinutes(1));

// The node name the duties record: Worker:InstanceName unless Coordination:Worker:NodeName is set.
// (An invalid Worker:InstanceName is left to WorkerOptions' validation, which names it.)
if (builder.Configuration[DutySchedulerOptions.SectionName + ":NodeName"] is null
    && builder.Configuration["Worker:InstanceName"] is { Length: > 0 } instance
    && System.Text.RegularExpressions.Regex.IsMatch(instance, "^[A-Za-z0-9._-]{1,128}$"))
{
    builder.Services.PostConfigure<DutySchedulerOptions>(options => options.NodeName = instance);
}

builder.Services.AddOptions<WorkerOptions>()
    .BindConfiguration(WorkerOptions.SectionName)
    .ValidateDataAnnotations()
    .ValidateOnStart();
builder.Services.AddHostedService<AlertingService>();
builder.Services.AddHostedService<HeartbeatService>();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
