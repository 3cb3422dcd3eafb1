using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Coordination.IntegrationTests.Alerts;

/// <summary>
/// One node of a system with alerts: a real host (<see cref="CoordinationTestHost"/>) with <c>WithAlerts</c>'s
/// registrations, its own node name and a log capture. Nodes of one system share the key prefix (and the fallback
/// schema when PostgreSQL is used), as API replicas and the Worker of one deployment do.
/// </summary>
internal sealed class AlertNode(CoordinationTestHost host, AlertLogCapture logs) : IAsyncDisposable
{
    public const int AlertFiring = 1830;
    public const int AlertRepeated = 1831;
    public const int AlertResolved = 1832;
    public const int AlertConditionRaised = 1833;
    public const int AlertDeliveryFailed = 1837;

    public CoordinationTestHost Host { get; } = host;

    public AlertLogCapture Logs { get; } = logs;

    public IAlertConditions Conditions => Host.Services.GetRequiredService<IAlertConditions>();

    internal AlertRuntime Runtime => Host.Services.GetRequiredService<AlertRuntime>();

    /// <summary>Settings every alert test starts from: a fast evaluation and delivery, so bounds stay short.</summary>
    public static List<KeyValuePair<string, string?>> Settings(string node, AlertWebhook webhook, params KeyValuePair<string, string?>[] more) =>
    [
        new("Coordination:Alerts:NodeName", node),
        new("Coordination:Alerts:EvaluationInterval", "00:00:00.100"),
        new("Coordination:Alerts:NodeTimeout", "00:00:05"),
        new("Coordination:Alerts:RepeatInterval", "00:10:00"),
        new("Coordination:Alerts:Webhooks:0:Url", webhook.Url),
        new("Coordination:Alerts:DeliveryRetryDelay", "00:00:00.020"),
        new("Coordination:Alerts:DeliveryAttemptTimeout", "00:00:02"),
        .. more,
    ];

    /// <summary>Starts a node on Redis alone (the incidents are decided in Redis).</summary>
    /// <param name="application">Registrations of the application's own, made before <c>WithAlerts</c>'s (as ServiceDefaults' are).</param>
    public static async Task<AlertNode> StartAsync(
        RedisServer redis, string keyPrefix, IEnumerable<KeyValuePair<string, string?>> settings, string hostName, Action<IServiceCollection>? application = null)
    {
        var logs = new AlertLogCapture();
        var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            keyPrefix,
            settings,
            hostName: hostName,
            services: services =>
            {
                application?.Invoke(services);
                Register(services, logs);
            });
        return new AlertNode(host, logs);
    }

    /// <summary>Starts a node with the PostgreSQL fallback (the incidents are decided in PostgreSQL), once the fallback is ready.</summary>
    public static async Task<AlertNode> StartWithPostgresAsync(
        RedisServer redis, PostgresServer postgres, string schema, string keyPrefix, IEnumerable<KeyValuePair<string, string?>> settings, string hostName)
    {
        var logs = new AlertLogCapture();
        var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, postgres, schema, settings, keyPrefix, hostName, services => Register(services, logs));
        return new AlertNode(host, logs);
    }

    public ValueTask DisposeAsync() => Host.DisposeAsync();

    private static void Register(IServiceCollection services, AlertLogCapture logs)
    {
        AlertsExtensions.AddAlerts(services, null);
        services.AddSingleton<ILoggerProvider>(logs);
    }
}
