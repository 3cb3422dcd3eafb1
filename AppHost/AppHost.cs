using Coordination.AppHost;
using Coordination.AppHost.EmbeddedResources;
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

// Coordination:HostingMode = auto | container | local | embedded (see HostingModeResolver).
var hosting = HostingModeResolver.Resolve(builder);
builder.Eventing.Subscribe<BeforeStartEvent>((@event, _) =>
{
    var logger = @event.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Coordination.AppHost");
    AppHostLog.HostingModeSelected(logger, hosting.Mode, hosting.Postgres, hosting.Reason);
    if (hosting.Mode == HostingMode.Embedded)
    {
        AppHostLog.EmbeddedRedis(logger, EmbeddedGarnetServer.ServerDescription, GarnetLimitations.Summary);
    }

    if (hosting.Postgres == PostgresHosting.None)
    {
        AppHostLog.NoPostgresFallback(logger, AbsentPostgresBuilderExtensions.Consequence);
    }

    return Task.CompletedTask;
});

IResourceBuilder<IResourceWithConnectionString> redis = hosting.Mode switch
{
    HostingMode.Container => builder.AddRedis("redis", password: redisPassword),
    HostingMode.Local => builder.AddLocalRedis("redis", redisPassword),
    _ => builder.AddEmbeddedRedis("redis", redisPassword),
};
IResourceBuilder<IResourceWithConnectionString>? coordinationDb = hosting.Postgres switch
{
    PostgresHosting.Container => builder.AddPostgres("postgres", password: postgresPassword).AddDatabase("coordinationdb"),
    PostgresHosting.Local => builder.AddLocalPostgres("postgres", postgresPassword).AddDatabase("coordinationdb"),
    _ => null,
};
if (coordinationDb is null)
{
    // Same name on the dashboard, saying why there is none and what the services lose.
    builder.AddAbsentPostgres("postgres", hosting.Reason);
}

var api = builder.AddProject<Projects.Coordination_Api>("api")
    .WithExternalHttpEndpoints()
    .WithReplicas(2)
    .WithReference(redis)
    .WaitFor(redis)
    .WithEnvironment("Coordination__ApiKeys__0__Key", adminApiKey)
    .WithEnvironment("Coordination__ApiKeys__0__Tenant", "dev")
    .WithEnvironment("Coordination__ApiKeys__0__Role", "admin")
    .WithHttpHealthCheck("/health");

var worker = builder.AddProject<Projects.Coordination_Worker>("worker")
    .WithReference(redis)
    .WaitFor(redis)
    .WithHttpHealthCheck("/health");

foreach (var service in new[] { api, worker })
{
    if (hosting.Mode == HostingMode.Embedded)
    {
        // Garnet has no streams, so the cache's invalidation log (XADD) fails and other nodes are never told of a
        // change: without a memory level no node can serve a value another one replaced (docs/operations.md, "Garnet").
        service.WithEnvironment("Coordination__Cache__MemoryTimeToLive", "00:00:00");
    }

    if (coordinationDb is not null)
    {
        service.WithReference(coordinationDb).WaitFor(coordinationDb);
    }
    else
    {
        // Explicit rather than implied by the missing connection string, and visible in the dashboard's environment.
        service.WithEnvironment("Coordination__Fallback__Enabled", "false");
    }
}

await builder.Build().RunAsync();
