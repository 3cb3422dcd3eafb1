using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of the alerts capability (EventId 1830-1859; names are frozen once shipped).</summary>
internal static partial class AlertsLog
{
    [LoggerMessage(1830, LogLevel.Error, "Alert {Rule} is firing (incident {Incident}, since {Since:o}, sent by {Node}): {Details}", EventName = "AlertFiring")]
    public static partial void Firing(ILogger logger, string rule, string incident, DateTimeOffset since, string node, string? details);

    [LoggerMessage(1831, LogLevel.Warning, "Alert {Rule} is still firing (incident {Incident}, since {Since:o}, sent by {Node}): {Details}", EventName = "AlertRepeated")]
    public static partial void Repeated(ILogger logger, string rule, string incident, DateTimeOffset since, string node, string? details);

    [LoggerMessage(1832, LogLevel.Information, "Alert {Rule} is resolved (incident {Incident}, since {Since:o}, sent by {Node}).", EventName = "AlertResolved")]
    public static partial void Resolved(ILogger logger, string rule, string incident, DateTimeOffset since, string node);

    [LoggerMessage(1833, LogLevel.Warning, "Alert condition {Rule} holds on this node: {Details}", EventName = "AlertConditionRaised")]
    public static partial void ConditionRaised(ILogger logger, string rule, string? details);

    [LoggerMessage(1834, LogLevel.Information, "Alert condition {Rule} no longer holds on this node.", EventName = "AlertConditionCleared")]
    public static partial void ConditionCleared(ILogger logger, string rule);

    [LoggerMessage(1835, LogLevel.Warning, "The {Store} alert store did not answer; until it does, this node decides its alerts alone (other nodes may notify the same incident).", EventName = "AlertStoreUnavailable")]
    public static partial void StoreUnavailable(ILogger logger, string store, Exception exception);

    [LoggerMessage(1836, LogLevel.Information, "The {Store} alert store answers again; alerts are decided once for the system.", EventName = "AlertStoreRecovered")]
    public static partial void StoreRecovered(ILogger logger, string store);

    [LoggerMessage(1837, LogLevel.Error, "Alert {Rule} ({State}, incident {Incident}) could not be delivered to webhook {Webhook} ({Outcome}, retries spent); it is not sent again.", EventName = "AlertDeliveryFailed")]
    public static partial void DeliveryFailed(ILogger logger, string rule, string state, string incident, int webhook, string outcome, Exception? exception);

    [LoggerMessage(1838, LogLevel.Error, "The alert delivery queue is full ({Capacity}); alert {Rule} ({State}) is dropped.", EventName = "AlertDeliveryDropped")]
    public static partial void DeliveryDropped(ILogger logger, int capacity, string rule, string state);

    [LoggerMessage(1839, LogLevel.Debug, "Alert {Rule} ({State}) delivered to webhook {Webhook}.", EventName = "AlertDelivered")]
    public static partial void Delivered(ILogger logger, string rule, string state, int webhook);

    [LoggerMessage(1840, LogLevel.Information, "Alerts: node {Node} evaluates every {Interval} and decides with the {Store} store; {Webhooks} webhook(s).", EventName = "AlertsStarted")]
    public static partial void Started(ILogger logger, string node, TimeSpan interval, string store, int webhooks);

    [LoggerMessage(1841, LogLevel.Warning, "An alert evaluation failed; the next one runs at the next interval.", EventName = "AlertEvaluationFailed")]
    public static partial void EvaluationFailed(ILogger logger, Exception exception);

    [LoggerMessage(1842, LogLevel.Debug, "The shared node and duty state could not be read; node-not-reporting and duty-failing keep their last state until the next read.", EventName = "AlertSharedStateUnreadable")]
    public static partial void SharedStateUnreadable(ILogger logger, Exception exception);
}
