using Coordination.AppHost.LocalResources;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Coordination.AppHost.EmbeddedResources;

/// <summary>Adds Redis served by Garnet inside the AppHost's process to the application model.</summary>
internal static class EmbeddedRedisBuilderExtensions
{
    /// <summary>The configuration key of Garnet's log memory size (Garnet syntax, default <c>256m</c>).</summary>
    public const string MemoryKey = "Coordination:Embedded:RedisMemory";

    private const string DefaultMemory = "256m";

    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds <paramref name="name"/> served by Garnet (Microsoft.Garnet) in the AppHost's process on a loopback port,
    /// with the same PING health check and connection string form as the local redis-server.
    /// </summary>
    /// <remarks>
    /// The port comes from <see cref="LocalHostingSettings.RedisPortKey"/> or is chosen free. Garnet starts when the
    /// resource is initialised (the AppHost's start) and stops with the AppHost. What Garnet does not serve (streams,
    /// so the cache's invalidation log; see docs/operations.md, "Garnet") is said once at start in the log and shown
    /// on the dashboard.
    /// </remarks>
    /// <param name="builder">The AppHost builder.</param>
    /// <param name="name">The resource name, e.g. <c>redis</c>.</param>
    /// <param name="password">The secret parameter with the server's password (no special characters).</param>
    /// <returns>The resource builder.</returns>
    public static IResourceBuilder<EmbeddedRedisResource> AddEmbeddedRedis(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource> password)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(password);

        var port = LocalPorts.ConfiguredOrFree(builder.Configuration, LocalHostingSettings.RedisPortKey);
        var memory = builder.Configuration[MemoryKey] is { Length: > 0 } configured ? configured : DefaultMemory;
        var resource = new EmbeddedRedisResource(name, port, password.Resource);

        // Created by the container, so the container disposes it (and Garnet with it) when the AppHost stops.
        builder.Services.AddSingleton(_ => new EmbeddedGarnetServer());

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new RedisPingHealthCheck(() => resource.Port, resource.PasswordParameter),
            failureStatus: null,
            tags: null,
            timeout: HealthCheckTimeout));

        return builder.AddResource(resource)
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "Garnet",
                State = KnownResourceStates.NotStarted,
                Properties = [],
            })
            .WithHealthCheck(healthCheckKey)
            .OnInitializeResource(async (redis, @event, cancellationToken) =>
            {
                await @event.Notifications.PublishUpdateAsync(redis, state => state with { State = KnownResourceStates.Starting });
                try
                {
                    var secret = await redis.PasswordParameter.GetValueAsync(cancellationToken)
                        ?? throw new DistributedApplicationException($"The parameter '{redis.PasswordParameter.Name}' has no value.");
                    var server = @event.Services.GetRequiredService<EmbeddedGarnetServer>();
                    server.Start(redis.Port, secret, memory, new MinimumLevelLoggerFactory(@event.Services.GetRequiredService<ILoggerFactory>(), LogLevel.Warning));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    AppHostLog.EmbeddedRedisFailed(@event.Logger, LocalHostingSettings.LoopbackAddress, redis.Port, ex);
                    await @event.Notifications.PublishUpdateAsync(redis, state => state with
                    {
                        State = KnownResourceStates.FailedToStart,
                        StopTimeStamp = DateTime.UtcNow,
                    });
                    return;
                }

                AppHostLog.EmbeddedRedisStarted(@event.Logger, LocalHostingSettings.LoopbackAddress, redis.Port, EmbeddedGarnetServer.ServerDescription);
                await @event.Notifications.PublishUpdateAsync(redis, state => state with
                {
                    State = KnownResourceStates.Running,
                    StartTimeStamp = DateTime.UtcNow,
                    Properties = [.. state.Properties,
                        new("coordination.server", EmbeddedGarnetServer.ServerDescription),
                        new("coordination.address", $"{LocalHostingSettings.LoopbackAddress}:{redis.Port}"),
                        new("coordination.unavailable", GarnetLimitations.Summary)],
                });
            })
            .ExcludeFromManifest();
    }
}
