using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.AppHost.LocalResources;

/// <summary>Adds a Redis server of this machine to the application model.</summary>
internal static class LocalRedisBuilderExtensions
{
    // Long enough for a loaded machine, short enough that a hung server is reported quickly.
    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds <c>redis-server</c> from PATH as an executable resource on a loopback port, with a
    /// PING health check so <c>WaitFor</c> waits until it answers.
    /// </summary>
    /// <remarks>
    /// Nothing is persisted (no RDB snapshots, no AOF): like a fresh container, every run starts
    /// empty. The port comes from <see cref="LocalHostingSettings.RedisPortKey"/> or is chosen free.
    /// </remarks>
    /// <param name="builder">The AppHost builder.</param>
    /// <param name="name">The resource name, e.g. <c>redis</c>.</param>
    /// <returns>The resource builder.</returns>
    /// <exception cref="DistributedApplicationException"><c>redis-server</c> is not on PATH.</exception>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(this IDistributedApplicationBuilder builder, string name)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);

        var redisServer = LocalExecutables.FindOnPath("redis-server")
            ?? throw new DistributedApplicationException(
                "Local hosting mode needs redis-server on PATH (Debian: apt-get install redis-server), "
                + $"or a container runtime with {HostingModeResolver.ConfigurationKey}=container.");

        var directory = LocalDirectories.ForResource(builder, name);
        var port = LocalPorts.ConfiguredOrFree(builder.Configuration, LocalHostingSettings.RedisPortKey);
        var resource = new LocalRedisResource(name, redisServer, directory);

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new RedisPingHealthCheck(resource),
            failureStatus: null,
            tags: null,
            timeout: HealthCheckTimeout));

        return builder.AddResource(resource)
            .WithEndpoint(port: port, targetPort: port, name: LocalRedisResource.PrimaryEndpointName, isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(resource.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add(LocalHostingSettings.LoopbackAddress);
                context.Args.Add("--dir");
                context.Args.Add(directory);
                context.Args.Add("--save");
                context.Args.Add(string.Empty);
                context.Args.Add("--appendonly");
                context.Args.Add("no");
            })
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }
}
