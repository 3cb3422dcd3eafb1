using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Coordination.AppHost.LocalResources;

/// <summary>Adds a PostgreSQL server of this machine, and its databases, to the application model.</summary>
internal static class LocalPostgresBuilderExtensions
{
    private const string DataFolderName = "data";

    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds a PostgreSQL server run from its binaries by <c>LocalResources/postgres-local.sh</c>
    /// on a loopback port, with a health check that opens a connection, so <c>WaitFor</c> waits
    /// until it accepts the password.
    /// </summary>
    /// <remarks>
    /// The cluster is kept between runs in a folder per checkout (see
    /// <see cref="LocalHostingSettings.DataDirectoryKey"/>); the port comes from
    /// <see cref="LocalHostingSettings.PostgresPortKey"/> or is chosen free; the binaries from
    /// <see cref="PostgresBinaries.Locate"/>.
    /// </remarks>
    /// <param name="builder">The AppHost builder.</param>
    /// <param name="name">The resource name, e.g. <c>postgres</c>.</param>
    /// <param name="password">The superuser's password, set on every start.</param>
    /// <returns>The resource builder.</returns>
    /// <exception cref="DistributedApplicationException">The PostgreSQL binaries or the start script are missing.</exception>
    public static IResourceBuilder<LocalPostgresServerResource> AddLocalPostgres(
        this IDistributedApplicationBuilder builder,
        string name,
        IResourceBuilder<ParameterResource> password)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(password);

        var binDirectory = PostgresBinaries.Locate(builder.Configuration);
        var script = Path.Combine(builder.AppHostDirectory, "LocalResources", "postgres-local.sh");
        if (!File.Exists(script))
        {
            throw new DistributedApplicationException($"The PostgreSQL start script '{script}' is missing.");
        }

        var directory = LocalDirectories.ForResource(builder, name);
        var port = LocalPorts.ConfiguredOrFree(builder.Configuration, LocalHostingSettings.PostgresPortKey);
        var resource = new LocalPostgresServerResource(name, directory, password.Resource);

        // Server-level check: the "postgres" database always exists.
        var healthCheckKey = $"{name}_check";
        AddNpgsqlHealthCheck(
            builder,
            healthCheckKey,
            async cancellationToken => await resource.ConnectionStringExpression.GetValueAsync(cancellationToken) + ";Database=postgres");

        return builder.AddResource(resource)
            .WithEndpoint(port: port, targetPort: port, name: LocalPostgresServerResource.PrimaryEndpointName, isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add(script);
                context.Args.Add(binDirectory);
                context.Args.Add(Path.Combine(directory, DataFolderName));
                context.Args.Add(resource.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
            })
            .WithEnvironment("POSTGRES_PASSWORD", password)
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    /// <summary>
    /// Adds a database of a local PostgreSQL server. It is created (when missing) once the
    /// server is healthy, and only then reported Running, so <c>WaitFor</c> on the database
    /// waits for it to exist.
    /// </summary>
    /// <param name="builder">The server's resource builder.</param>
    /// <param name="name">The resource name, e.g. <c>coordinationdb</c>.</param>
    /// <param name="databaseName">The database's name in PostgreSQL; defaults to <paramref name="name"/>.</param>
    /// <returns>The database's resource builder.</returns>
    public static IResourceBuilder<LocalPostgresDatabaseResource> AddDatabase(
        this IResourceBuilder<LocalPostgresServerResource> builder,
        string name,
        string? databaseName = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var server = builder.Resource;
        var database = new LocalPostgresDatabaseResource(name, databaseName ?? name, server);
        var eventing = builder.ApplicationBuilder.Eventing;

        // Aspire passes a parent's state on to its children only for containers, so the
        // database's state follows the executable server here.
        eventing.Subscribe<BeforeResourceStartedEvent>(server, async (@event, _) =>
        {
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            await notifications.PublishUpdateAsync(database, state => state with
            {
                State = KnownResourceStates.Starting,
                StartTimeStamp = null,
                StopTimeStamp = null,
            });
        });

        eventing.Subscribe<ResourceReadyEvent>(server, async (@event, cancellationToken) =>
        {
            var serverConnectionString = await server.ConnectionStringExpression.GetValueAsync(cancellationToken);
            await CreateDatabaseIfMissingAsync(serverConnectionString, database.DatabaseName, cancellationToken);

            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            await notifications.PublishUpdateAsync(database, state => state with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                StopTimeStamp = null,
            });
        });

        // Published to the server's children too when the server stops.
        eventing.Subscribe<ResourceStoppedEvent>(database, async (@event, _) =>
        {
            var notifications = @event.Services.GetRequiredService<ResourceNotificationService>();
            await notifications.PublishUpdateAsync(database, state => state with
            {
                State = @event.ResourceEvent.Snapshot.State,
                StopTimeStamp = @event.ResourceEvent.Snapshot.StopTimeStamp ?? DateTime.UtcNow,
            });
        });

        var healthCheckKey = $"{name}_check";
        AddNpgsqlHealthCheck(builder.ApplicationBuilder, healthCheckKey, database.ConnectionStringExpression.GetValueAsync);

        return builder.ApplicationBuilder.AddResource(database)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "PostgresDatabase",
                State = KnownResourceStates.NotStarted,
                Properties = [],
            })
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    private static void AddNpgsqlHealthCheck(
        IDistributedApplicationBuilder builder,
        string key,
        Func<CancellationToken, ValueTask<string?>> connectionString) =>
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            key,
            _ => new NpgsqlConnectionHealthCheck(connectionString),
            failureStatus: null,
            tags: null,
            timeout: HealthCheckTimeout));

    [SuppressMessage(
        "Security",
        "CA2100:Review SQL queries for security vulnerabilities",
        Justification = "The database name is an identifier from the AppHost's own code, quoted as one.")]
    private static async Task CreateDatabaseIfMissingAsync(string? serverConnectionString, string databaseName, CancellationToken cancellationToken)
    {
        var connectionString = new NpgsqlConnectionStringBuilder(serverConnectionString)
        {
            Database = "postgres",
            Pooling = false,
        };

        await using var connection = new NpgsqlConnection(connectionString.ConnectionString);
        await connection.OpenAsync(cancellationToken);

        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection))
        {
            exists.Parameters.Add(new NpgsqlParameter { Value = databaseName });
            if (await exists.ExecuteScalarAsync(cancellationToken) is not null)
            {
                return;
            }
        }

        // CREATE DATABASE takes no parameters: quote the name as an identifier.
        var quoted = "\"" + databaseName.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
        await using var create = new NpgsqlCommand($"CREATE DATABASE {quoted}", connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
    }
}
