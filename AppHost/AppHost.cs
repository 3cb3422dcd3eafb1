using Coordination.AppHost;
using Coordination.AppHost.LocalResources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

var builder = DistributedApplication.CreateBuilder(args);

// Secrets are parameters with generated defaults: nothing secret lives in the repository.
// In run mode the generated values are kept in the AppHost's user secrets; set
// Parameters:postgres-password / Parameters:admin-api-key / Parameters:redis-password to choose them. No special characters:
// the values go unescaped into connection strings, SQL literals and HTTP headers.
var postgresPassword = builder.AddParameter(
    "postgres-password",
    new GenerateParameterDefault { MinLength = 22, Special = false },
    secret: true,
    persist: true);
var adminApiKey = builder.AddParameter(
    "admin-api-key",
    new GenerateParameterDefault { MinLength = 32, Special = false },
    secret: true,
    persist: true);

// Redis's password, for the container and the local redis-server alike.
var redisPassword = builder.AddParameter(
    "redis-password",
    new GenerateParameterDefault { MinLength = 32, Special = false },
    secret: true,
    persist: true);

// Coordination:HostingMode = auto | container | local (see HostingModeResolver).
var hosting = HostingModeResolver.Resolve(builder);
builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
{
    var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Coordination.AppHost");
    AppHostLog.HostingModeSelected(logger, hosting.Mode, hosting.Reason);
    return Task.CompletedTask;
});

IResourceBuilder<IResourceWithConnectionString> redis;
IResourceBuilder<IResourceWithConnectionString> coordinationDb;
if (hosting.Mode == HostingMode.Container)
{
    redis = builder.AddRedis("redis", password: redisPassword);
    coordinationDb = builder.AddPostgres("postgres", password: postgresPassword)
        .AddDatabase("coordinationdb");
}
else
{
    redis = builder.AddLocalRedis("redis", redisPassword);
    coordinationDb = builder.AddLocalPostgres("postgres", postgresPassword)
        .AddDatabase("coordinationdb");
}

builder.AddProject<Projects.Coordination_Api>("api")
    .WithExternalHttpEndpoints()
    .WithReplicas(2)
    .WithReference(redis)
    .WithReference(coordinationDb)
    .WaitFor(redis)
    .WaitFor(coordinationDb)
    .WithEnvironment("Coordination__ApiKeys__0__Key", adminApiKey)
    .WithEnvironment("Coordination__ApiKeys__0__Tenant", "dev")
    .WithEnvironment("Coordination__ApiKeys__0__Role", "admin")
    .WithHttpHealthCheck("/health");

builder.AddProject<Projects.Coordination_Worker>("worker")
    .WithReference(redis)
    .WithReference(coordinationDb)
    .WaitFor(redis)
    .WaitFor(coordinationDb)
    .WithHttpHealthCheck("/health");

await builder.Build().RunAsync();
