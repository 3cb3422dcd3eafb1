using Coordination;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the alerts capability on the builder <c>AddCoordination</c> returned.</summary>
public static class AlertsExtensions
{
    /// <summary>
    /// Adds alerts: every node evaluates the rules of <see cref="AlertRules"/> over its own coordination events and
    /// metrics, plus the conditions raised through <see cref="IAlertConditions"/>; the nodes decide together, in
    /// PostgreSQL when the fallback store is configured (Redis otherwise), so each incident is notified once for the
    /// system, repeated every <see cref="AlertsOptions.RepeatInterval"/> while it fires and resolved once it cleared on
    /// every node. Notifications are logged and posted as JSON to <c>Coordination:Alerts:Webhooks:{i}:Url</c> with
    /// retries and backoff. Options are bound from <see cref="AlertsOptions.SectionName"/> and validated at start.
    /// </summary>
    /// <param name="builder">The builder <c>AddCoordination</c> returned.</param>
    /// <param name="configure">Changes the options after they are bound.</param>
    /// <returns>The same builder.</returns>
    /// <remarks>
    /// Add it on every node (API replicas and the Worker): an outage seen by one node alone is then still alerted. Each
    /// node needs its own <see cref="AlertsOptions.NodeName"/> (the default is unique per process). Without PostgreSQL,
    /// alerts about Redis itself come from each node on its own while Redis does not answer.
    /// </remarks>
    public static ICoordinationBuilder WithAlerts(this ICoordinationBuilder builder, Action<AlertsOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        AddAlerts(builder.Services, configure);
        return builder;
    }

    /// <summary>The registrations of <see cref="WithAlerts"/>, on a service collection that already has <c>AddCoordination</c>'s.</summary>
    internal static void AddAlerts(IServiceCollection services, Action<AlertsOptions>? configure)
    {
        var options = services.AddOptions<AlertsOptions>().BindConfiguration(AlertsOptions.SectionName);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AlertsOptions>, AlertsOptionsRules>());
        if (services.Any(d => d.ServiceType == typeof(AlertRuntime)))
        {
            return;
        }

        services.TryAddSingleton<AlertConditions>();
        services.TryAddSingleton<IAlertConditions>(sp => sp.GetRequiredService<AlertConditions>());

        // Its own pipeline only: the defaults of an application (ServiceDefaults' standard handler) would retry again
        // around ours and time a slow webhook out differently.
#pragma warning disable EXTEXP0001 // RemoveAllResilienceHandlers is marked for evaluation; it is the documented way to replace the defaults.
        services.AddHttpClient(AlertDispatcher.HttpClientName)
            .RemoveAllResilienceHandlers()
#pragma warning restore EXTEXP0001
            .AddResilienceHandler("coordination-alerts", static (pipeline, context) =>
            {
                var alerts = context.ServiceProvider.GetRequiredService<IOptions<AlertsOptions>>().Value;
                if (alerts.DeliveryRetries > 0)
                {
                    pipeline.AddRetry(new HttpRetryStrategyOptions
                    {
                        MaxRetryAttempts = alerts.DeliveryRetries,
                        BackoffType = DelayBackoffType.Exponential,
                        UseJitter = true,
                        Delay = alerts.DeliveryRetryDelay,
                    });
                }

                pipeline.AddTimeout(alerts.DeliveryAttemptTimeout);
            });

        services.TryAddSingleton(sp =>
        {
            var alerts = sp.GetRequiredService<IOptions<AlertsOptions>>().Value;
            var coordination = sp.GetRequiredService<IOptions<CoordinationOptions>>().Value;
            IAlertStore store = sp.GetRequiredService<KeyValueFallback>().IsConfigured
                ? new PostgresAlertStore(sp.GetRequiredService<NpgsqlDataSource>(), coordination.Fallback.Schema, alerts)
                : new RedisAlertStore(sp.GetRequiredService<RedisExecutor>(), coordination.KeyPrefix, alerts);
            return new AlertRuntime(
                alerts,
                alerts.NodeName ?? DefaultNodeName(sp.GetService<IHostEnvironment>()?.ApplicationName),
                sp.GetRequiredService<AlertConditions>(),
                sp.GetRequiredService<ICoordinationEvents>(),
                sp.GetRequiredService<ICoordinationMonitor>(),
                sp.GetRequiredService<CoordinationMetrics>(),
                store,
                sp.GetRequiredService<IHttpClientFactory>(),
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILoggerFactory>());
        });
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AlertsHost>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, SharedStateAlerts>());
    }

    internal static string DefaultNodeName(string? application)
    {
        var raw = $"{application ?? "node"}-{Environment.MachineName}-{Environment.ProcessId}";
        var name = new string([.. raw.Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-' ? c : '-')]);
        return name.Length > 128 ? name[^128..] : name;
    }
}
