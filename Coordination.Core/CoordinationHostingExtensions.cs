using Aspire.StackExchange.Redis;
using Coordination;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the coordination platform in a host.</summary>
public static class CoordinationHostingExtensions
{
    /// <summary>
    /// Adds the coordinator, the connection pool, resilience, the PostgreSQL fallback (when
    /// <c>ConnectionStrings:{Coordination:Fallback:ConnectionName}</c> is set), health checks and telemetry.
    /// </summary>
    /// <param name="builder">The host builder.</param>
    /// <param name="connectionName">
    /// The name of the Redis connection string (<c>ConnectionStrings:{name}</c>, or
    /// <c>Aspire:StackExchange:Redis:ConnectionString</c>). Settings under <c>Aspire:StackExchange:Redis</c>
    /// (<c>DisableHealthChecks</c>, <c>DisableTracing</c>) apply as for Aspire's Redis client.
    /// </param>
    /// <param name="configure">Changes the options after they are bound from the <c>Coordination</c> section.</param>
    /// <returns>A builder to add capabilities to.</returns>
    /// <remarks>Invalid options, or a missing connection string, fail the host's start with a message that names the setting.</remarks>
    public static ICoordinationBuilder AddCoordination(
        this IHostApplicationBuilder builder,
        string connectionName = "redis",
        Action<CoordinationOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionName);

        var services = builder.Services;
        if (services.FirstOrDefault(d => d.ServiceType == typeof(CoordinationRegistration))?.ImplementationInstance is CoordinationRegistration registered)
        {
            // Called again (a library and the application both add it): nothing is registered twice.
            if (!string.Equals(registered.ConnectionName, connectionName, StringComparison.Ordinal))
            {
                throw new InvalidOperationException(
                    $"AddCoordination was already called with the connection name '{registered.ConnectionName}'; one host has one coordination platform, so it cannot be added again for '{connectionName}'.");
            }

            if (configure is not null)
            {
                services.Configure(configure);
            }

            return new CoordinationBuilder(builder, connectionName);
        }

        services.AddSingleton(new CoordinationRegistration(connectionName));
        var redisSettings = new StackExchangeRedisSettings();
        builder.Configuration.GetSection("Aspire:StackExchange:Redis").Bind(redisSettings);
        if (builder.Configuration.GetConnectionString(connectionName) is { Length: > 0 } connectionString)
        {
            redisSettings.ConnectionString = connectionString;
        }

        // Registration-time view of the options, to decide what to register; the container gets its own copy.
        var registrationOptions = new CoordinationOptions();
        builder.Configuration.GetSection(CoordinationOptions.SectionName).Bind(registrationOptions);
        configure?.Invoke(registrationOptions);

        var optionsBuilder = services.AddOptions<CoordinationOptions>().BindConfiguration(CoordinationOptions.SectionName);
        if (configure is not null)
        {
            optionsBuilder.Configure(configure);
        }

        optionsBuilder.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinationOptions>, CoordinationOptionsValidator>());
        services.AddSingleton<IValidateOptions<CoordinationOptions>>(new CoordinationOptionsRules(connectionName, () => redisSettings.ConnectionString));

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ICoordinationSerializer, SystemTextJsonCoordinationSerializer>();
        services.TryAddSingleton<CoordinationMetrics>();
        services.TryAddSingleton<CoordinationEvents>();
        services.TryAddSingleton<ICoordinationEvents>(sp => sp.GetRequiredService<CoordinationEvents>());
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<CoordinationOptions>>().Value;
            var tracing = redisSettings.DisableTracing || !options.TraceRedisCommands ? null : sp.GetRequiredService<RedisTracingRegistry>();
            return new RedisConnectionPool(
                redisSettings.ConnectionString!,
                options.Pool,
                options.Resilience,
                sp.GetRequiredService<CoordinationEvents>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<RedisConnectionPool>>(),
                tracing is null ? null : tracing.Add);
        });
        services.TryAddSingleton(sp => new RedisExecutor(
            sp.GetRequiredService<RedisConnectionPool>(),
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Resilience,
            sp.GetRequiredService<CoordinationEvents>(),
            sp.GetRequiredService<CoordinationMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton(sp => new RedisClock(sp.GetRequiredService<TimeProvider>()));

        var fallback = registrationOptions.Fallback;
        var fallbackConfigured = fallback.Enabled && !string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(fallback.ConnectionName));
        if (fallbackConfigured)
        {
            builder.AddNpgsqlDataSource(fallback.ConnectionName);
        }

        services.TryAddSingleton(sp => new KeyValueFallback(
            fallbackConfigured ? sp.GetRequiredService<NpgsqlDataSource>() : null,
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Fallback,
            sp.GetRequiredService<RedisExecutor>(),
            sp.GetRequiredService<CoordinationEvents>(),
            sp.GetRequiredService<CoordinationMetrics>(),
            sp.GetRequiredService<ILogger<KeyValueFallback>>(),
            sp.GetRequiredService<IPlatformLocks>(),
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.KeyPrefix));

        services.TryAddSingleton<IFallbackMaintenance>(sp => sp.GetRequiredService<KeyValueFallback>());

        // One runtime per capability, owned by the container and handed to whoever needs it.
        services.TryAddSingleton(sp => new LockRuntime(
            sp.GetRequiredService<RedisExecutor>(),
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value,
            sp.GetRequiredService<RedisClock>(),
            sp.GetRequiredService<CoordinationEvents>(),
            sp.GetRequiredService<CoordinationMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            fallbackConfigured
                ? new FencingEpochStore(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Fallback.Schema)
                : null));
        services.TryAddSingleton<IPlatformLocks>(sp => sp.GetRequiredService<LockRuntime>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinationOptions>, CacheOptionsRules>());
        services.TryAddSingleton(sp => new CacheRuntime(
            sp.GetRequiredService<RedisExecutor>(),
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value,
            sp.GetRequiredService<ICoordinationSerializer>(),
            sp.GetRequiredService<IPlatformLocks>(),
            sp.GetRequiredService<RedisClock>(),
            sp.GetRequiredService<CoordinationMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinationOptions>, SessionManagerOptionsRules>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinationOptions>, SessionUpgradeChainRules>());
        services.AddSingleton<IValidateOptions<CoordinationOptions>>(new SessionMigrationOptionsRules(() => redisSettings.ConnectionString));
        // Owned by the container: its own connection to the source, when it has one, is disposed with it.
        services.TryAddSingleton(sp => new SessionMigrationSource(
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Sessions.MigrateFrom,
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.KeyPrefix,
            sp.GetRequiredService<RedisExecutor>()));
        services.TryAddSingleton(sp => new SessionRuntime(
            sp.GetRequiredService<RedisExecutor>(),
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value,
            sp.GetRequiredService<CoordinationMetrics>(),
            sp.GetRequiredService<ILoggerFactory>(),
            fallbackConfigured
                ? new PostgresSessionStore(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Fallback.Schema)
                : null,
            sp.GetServices<ISessionDataUpgrader>(),
            sp.GetRequiredService<SessionMigrationSource>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinationOptions>, RateLimitingOptionsRules>());
        services.TryAddSingleton(sp => new RateLimitRuntime(
            sp.GetRequiredService<RedisExecutor>(),
            sp.GetRequiredService<IOptions<CoordinationOptions>>().Value,
            sp.GetRequiredService<CoordinationMetrics>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<IRateLimitHealthSignal>()));
        services.TryAddSingleton(sp => new CoordinatorFactory(
            sp.GetRequiredService<IOptions<CoordinationOptions>>(),
            sp.GetRequiredService<ICoordinationSerializer>(),
            sp.GetRequiredService<RedisExecutor>(),
            sp.GetRequiredService<KeyValueFallback>(),
            sp.GetRequiredService<LockRuntime>(),
            sp.GetRequiredService<CacheRuntime>(),
            sp.GetRequiredService<SessionRuntime>(),
            sp.GetRequiredService<RateLimitRuntime>(),
            sp.GetRequiredService<CoordinationMetrics>()));
        services.TryAddSingleton<ICoordinatorFactory>(sp => sp.GetRequiredService<CoordinatorFactory>());
        services.TryAddSingleton<IRedisCoordinator>(sp => sp.GetRequiredService<CoordinatorFactory>().ForTenant(sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Tenant));
        services.TryAddSingleton<IDistributedLockManager>(sp => sp.GetRequiredService<IRedisCoordinator>().Locks);
        services.TryAddSingleton(sp => sp.GetRequiredService<CacheRuntime>().ForTenant(sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Tenant));
        services.TryAddSingleton<ICacheManager>(sp => sp.GetRequiredService<RedisCacheManager>());
        services.TryAddSingleton<ISessionMaintenance>(sp => new SessionCleanup(sp.GetRequiredService<SessionRuntime>(), sp.GetRequiredService<IPlatformLocks>()));
        services.TryAddSingleton<ISessionMigration>(sp => new SessionMigration(sp.GetRequiredService<SessionRuntime>(), sp.GetRequiredService<IPlatformLocks>()));
        services.TryAddSingleton<ISessionManager>(sp => sp.GetRequiredService<SessionRuntime>().ForTenant(sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Tenant));
        services.TryAddSingleton<IRateLimitPolicies>(sp => sp.GetRequiredService<RateLimitRuntime>().Policies);
        services.TryAddSingleton<IRateLimitService>(sp => sp.GetRequiredService<RateLimitRuntime>().ForTenant(sp.GetRequiredService<IOptions<CoordinationOptions>>().Value.Tenant));
        services.TryAddSingleton<ICoordinationMonitor, CoordinationMonitor>();
        // Any capability may raise an alert condition; WithAlerts evaluates and delivers them.
        services.TryAddSingleton<AlertConditions>();
        services.TryAddSingleton<IAlertConditions>(sp => sp.GetRequiredService<AlertConditions>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, CoordinationLifetime>());

        if (!redisSettings.DisableHealthChecks)
        {
            services.AddHealthChecks().AddCheck<CoordinationHealthCheck>("coordination", tags: ["ready"]);
        }

        var telemetry = services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics.AddMeter(CoordinationDiagnostics.MeterName));
        if (!redisSettings.DisableTracing)
        {
            services.TryAddSingleton<RedisTracingRegistry>();
            telemetry.WithTracing(tracing => tracing
                .AddSource(CoordinationDiagnostics.ActivitySourceName)
                .AddRedisInstrumentation()
                .ConfigureRedisInstrumentation((sp, instrumentation) => sp.GetRequiredService<RedisTracingRegistry>().Attach(instrumentation)));
        }

        return new CoordinationBuilder(builder, connectionName);
    }

    /// <summary>
    /// Configures the two-level cache and registers <see cref="IDistributedCache"/> over it (for ASP.NET Core sessions,
    /// HybridCache and other consumers; an <see cref="IDistributedCache"/> registered before is kept).
    /// <see cref="ICacheManager"/> itself is registered by <c>AddCoordination</c> for the default tenant, and is
    /// <see cref="IRedisCoordinator.Cache"/> for every tenant. Applied after the <c>Coordination:Cache</c> section is
    /// bound; validated at start like the other options.
    /// </summary>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="configure">Changes the cache options; <see langword="null"/> keeps them as bound.</param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithCaching(this ICoordinationBuilder builder, Action<CacheOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (configure is not null)
        {
            builder.Services.Configure<CoordinationOptions>(options => configure(options.Cache));
        }

        builder.Services.TryAddSingleton<IDistributedCache>(sp => new CoordinationDistributedCache(sp.GetRequiredService<RedisCacheManager>()));
        return builder;
    }

    /// <summary>
    /// Configures rate limiting (<see cref="IRateLimitService"/>, resolvable from dependency injection for the default
    /// tenant and as <see cref="IRedisCoordinator.RateLimits"/> for every tenant, and <see cref="IRateLimitPolicies"/>):
    /// policies defined in code, the refresh interval, the bounds. Applied after the <c>Coordination:RateLimiting</c>
    /// section is bound; the result is validated at start like the other options.
    /// </summary>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="configure">Changes the rate-limiting options (for example adds to <see cref="RateLimitingOptions.Policies"/>).</param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithRateLimiting(this ICoordinationBuilder builder, Action<RateLimitingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure<CoordinationOptions>(options => configure(options.RateLimiting));
        return builder;
    }

    /// <summary>
    /// Configures the distributed locks (<see cref="IDistributedLockManager"/>, resolvable from dependency injection
    /// for the default tenant and as <see cref="IRedisCoordinator.Locks"/> for every tenant). Applied after the
    /// <c>Coordination:Locks</c> section is bound; the result is validated at start like the other options.
    /// </summary>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="configure">Changes the lock options.</param>
    /// <returns>The same builder.</returns>
    public static ICoordinationBuilder WithLocks(this ICoordinationBuilder builder, Action<LockManagerOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure<CoordinationOptions>(options => configure(options.Locks));
        return builder;
    }
}
