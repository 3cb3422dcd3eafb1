using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Coordination.AppHost.LocalResources;

/// <summary>Adds a Redis server of this machine to the application model.</summary>
internal static class LocalRedisBuilderExtensions
{
    // Long enough for a loaded machine, short enough that a hung server is reported quickly.
    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Adds <c>redis-server</c> (or <c>valkey-server</c>, see <see cref="LocalRedisServer"/>) as an executable resource on a loopback port, with a
    /// PING health check so <c>WaitFor</c> waits until it answers.
    /// </summary>
    /// <remarks>
    /// Nothing is persisted (no RDB snapshots, no AOF): like a fresh container, every run starts
    /// empty. The port comes from <see cref="LocalHostingSettings.RedisPortKey"/> or is chosen free.
    /// The server requires <paramref name="password"/> (given in a generated config file readable by
    /// its owner only, never on the command line, where <c>ps</c> and the dashboard would show it) and
    /// runs with <c>maxmemory</c> <see cref="LocalHostingSettings.RedisMaxMemoryKey"/> and
    /// <c>maxmemory-policy noeviction</c>: when full it refuses writes rather than evicting locks or sessions.
    /// </remarks>
    /// <param name="builder">The AppHost builder.</param>
    /// <param name="name">The resource name, e.g. <c>redis</c>.</param>
    /// <param name="password">The secret parameter with the server's password (no special characters).</param>
    /// <returns>The resource builder.</returns>
    /// <exception cref="DistributedApplicationException">No server program was found (<see cref="LocalRedisServer"/>).</exception>
    public static IResourceBuilder<LocalRedisResource> AddLocalRedis(
        this IDistributedApplicationBuilder builder, string name, IResourceBuilder<ParameterResource> password)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(password);

        var redisServer = LocalRedisServer.Locate(builder.Configuration)
            ?? throw new DistributedApplicationException(
                "Local hosting mode needs redis-server or valkey-server on PATH (Debian: apt-get install redis-server), "
                + $"or a container runtime with {HostingModeResolver.ConfigurationKey}=container.");

        var directory = LocalDirectories.ForResource(builder, name);
        var port = LocalPorts.ConfiguredOrFree(builder.Configuration, LocalHostingSettings.RedisPortKey);
        var maxMemory = builder.Configuration[LocalHostingSettings.RedisMaxMemoryKey] is { Length: > 0 } configured
            ? configured
            : LocalHostingSettings.DefaultRedisMaxMemory;
        var configFile = Path.Combine(directory, "redis-local.conf");
        var resource = new LocalRedisResource(name, redisServer, directory, password.Resource);

        var healthCheckKey = $"{name}_check";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(
            healthCheckKey,
            _ => new RedisPingHealthCheck(resource),
            failureStatus: null,
            tags: null,
            timeout: HealthCheckTimeout));

        return builder.AddResource(resource)
            .WithEndpoint(port: port, targetPort: port, name: LocalRedisResource.PrimaryEndpointName, isProxied: false)
            .WithArgs(async context =>
            {
                // The config file comes first (redis-server reads it, then the options after it).
                await WritePasswordConfigAsync(configFile, password.Resource, context.CancellationToken);
                context.Args.Add(configFile);
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
                context.Args.Add("--maxmemory");
                context.Args.Add(maxMemory);
                context.Args.Add("--maxmemory-policy");
                context.Args.Add("noeviction");
            })
            .WithHealthCheck(healthCheckKey)
            .ExcludeFromManifest();
    }

    // Owner-only (0600), rewritten at every start so it always holds the parameter's current value.
    private static async Task WritePasswordConfigAsync(string path, ParameterResource password, CancellationToken cancellationToken)
    {
        var value = await password.GetValueAsync(cancellationToken)
            ?? throw new DistributedApplicationException($"The parameter '{password.Name}' has no value.");
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnly;
        }

        await using var stream = new FileStream(path, options);
        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode only applies to a new file: an older one may have other bits.
            File.SetUnixFileMode(path, OwnerOnly);
        }

        await using var writer = new StreamWriter(stream);
        await writer.WriteAsync($"requirepass {value}\n".AsMemory(), cancellationToken);
    }
}
