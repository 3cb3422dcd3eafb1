using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// A real host with <c>AddCoordination</c>, configured in memory like an application would be
/// (<c>ConnectionStrings:redis</c>, <c>Coordination:*</c>), started and resolved. Each instance has its own
/// connections, so two of them behave like two processes. Disposing stops the host (bounded) and disposes it.
/// </summary>
public sealed class CoordinationTestHost : OwnedHost
{
    private static int _count;

    private CoordinationTestHost(IHost host, string keyPrefix)
        : base(host)
    {
        KeyPrefix = keyPrefix;
    }

    public string KeyPrefix { get; }

    public IRedisCoordinator Coordinator => Services.GetRequiredService<IRedisCoordinator>();

    public ICoordinatorFactory Factory => Services.GetRequiredService<ICoordinatorFactory>();

    public ICoordinationMonitor Monitor => Services.GetRequiredService<ICoordinationMonitor>();

    public ICoordinationEvents Events => Services.GetRequiredService<ICoordinationEvents>();

    public CoordinationOptions Options => Services.GetRequiredService<IOptions<CoordinationOptions>>().Value;

    internal RedisExecutor Executor => Services.GetRequiredService<RedisExecutor>();

    /// <summary>
    /// The Redis key the coordinator stores <paramref name="key"/> under (<c>{prefix}:{tenant}:{capability}:{key}</c>).
    /// A lock's name is its hash tag (<c>{prefix}:{tenant}:lock:{{key}}</c>, the hash of its holds).
    /// </summary>
    public string RedisKey(string key, string capability = "kv", string tenant = "default") =>
        capability is "lock" or "semaphore" ? $"{KeyPrefix}:{tenant}:{capability}:{{{key}}}" : $"{KeyPrefix}:{tenant}:{capability}:{key}";

    /// <summary>Builds (without starting) a host from the given configuration; <paramref name="services"/> adds registrations of its own (an application's).</summary>
    public static IHost Build(IEnumerable<KeyValuePair<string, string?>> configuration, string? hostName = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            DisableDefaults = true,
            EnvironmentName = "Testing",
            ApplicationName = "Coordination.IntegrationTests",
        });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Information);
        builder.Logging.AddProvider(new TestOutputLoggerProvider(TestContext.Current.TestOutputHelper, hostName ?? $"host{Interlocked.Increment(ref _count)}"));
        builder.AddCoordination();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>Starts a host on <paramref name="redisConnectionString"/> with the PostgreSQL fallback in <paramref name="schema"/> (a fresh one when null) of <paramref name="postgres"/>.</summary>
    public static Task<CoordinationTestHost> StartWithFallbackAsync(
        string redisConnectionString,
        PostgresServer postgres,
        string? schema = null,
        IEnumerable<KeyValuePair<string, string?>>? settings = null) =>
        StartAsync(
            redisConnectionString,
            settings: [new("Coordination:Fallback:Schema", schema ?? TestKeys.NewSchema()), .. settings ?? []],
            postgresConnectionString: postgres.ConnectionString);

    /// <summary>
    /// Starts a host on <paramref name="redis"/> with the PostgreSQL fallback in <paramref name="schema"/> of
    /// <paramref name="postgres"/>, and returns it once the fallback can serve (its schema migrated).
    /// </summary>
    public static async Task<CoordinationTestHost> StartWithReadyFallbackAsync(
        IRedisTarget redis,
        PostgresServer postgres,
        string schema,
        IEnumerable<KeyValuePair<string, string?>>? settings = null,
        string? keyPrefix = null,
        string? hostName = null,
        Action<IServiceCollection>? services = null)
    {
        var host = await StartAsync(redis.ConnectionString, keyPrefix, [new("Coordination:Fallback:Schema", schema), .. settings ?? []], postgres.ConnectionString, hostName, services);
        try
        {
            await ProcessUtil.WaitUntilAsync(
                async () => (await host.Monitor.GetStatusAsync(TestContext.Current.CancellationToken)).Fallback.Ready,
                TimeSpan.FromSeconds(20),
                "the fallback schema",
                TestContext.Current.CancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a host on <paramref name="redisConnectionString"/> with its own key prefix.</summary>
    /// <param name="redisConnectionString">ConnectionStrings:redis.</param>
    /// <param name="keyPrefix">Coordination:KeyPrefix; a fresh one when null.</param>
    /// <param name="settings">More configuration (<c>Coordination:Resilience:AttemptTimeout</c>, ...), applied last.</param>
    /// <param name="postgresConnectionString">ConnectionStrings:coordinationdb, which turns the fallback on.</param>
    /// <param name="hostName">A name for the host's log lines.</param>
    /// <param name="services">Registrations of the application's own (an <see cref="ISessionDataUpgrader"/>, ...).</param>
    public static async Task<CoordinationTestHost> StartAsync(
        string redisConnectionString,
        string? keyPrefix = null,
        IEnumerable<KeyValuePair<string, string?>>? settings = null,
        string? postgresConnectionString = null,
        string? hostName = null,
        Action<IServiceCollection>? services = null)
    {
        keyPrefix ??= TestKeys.NewPrefix();
        var configuration = new Dictionary<string, string?>
        {
            ["ConnectionStrings:redis"] = redisConnectionString,
            ["Coordination:KeyPrefix"] = keyPrefix,
        };
        if (postgresConnectionString is not null)
        {
            configuration["ConnectionStrings:coordinationdb"] = postgresConnectionString;
        }

        foreach (var (key, value) in settings ?? [])
        {
            configuration[key] = value;
        }

        var host = Build(configuration, hostName, services);
        var testHost = new CoordinationTestHost(host, keyPrefix);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await host.StartAsync(timeout.Token);
        }
        catch
        {
            await testHost.DisposeAsync();
            throw;
        }

        return testHost;
    }
}
