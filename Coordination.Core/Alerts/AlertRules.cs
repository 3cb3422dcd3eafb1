using System.Text.RegularExpressions;

namespace Coordination;

/// <summary>
/// The catalogue of alert rule names. The first five are evaluated on every node by the alerts capability
/// (<c>WithAlerts</c>); <see cref="NodeNotReporting"/> and <see cref="DutyFailing"/> are raised and cleared by other
/// capabilities through <see cref="IAlertConditions"/>. A rule name is what a webhook receives as <c>rule</c> and
/// what docs/operations.md's runbook is indexed by.
/// </summary>
public static partial class AlertRules
{
    /// <summary>The circuit breaker of a node has been open (or isolated) longer than <see cref="AlertsOptions.CircuitOpenThreshold"/>.</summary>
    public const string CircuitOpen = "circuit-open";

    /// <summary>The p99 of a node's Redis round trips over <see cref="AlertsOptions.LatencyWindow"/> is above <see cref="AlertsOptions.LatencyThreshold"/>.</summary>
    public const string RedisLatency = "redis-latency";

    /// <summary>A node serves key/value calls from the PostgreSQL fallback store (Redis unavailable to it).</summary>
    public const string FallbackEngaged = "fallback-engaged";

    /// <summary>A node's queue of writes to mirror into PostgreSQL holds more than <see cref="AlertsOptions.MirrorBacklogThreshold"/> writes.</summary>
    public const string MirrorBacklog = "mirror-backlog";

    /// <summary>A node lost a lock it held through a handle (<see cref="ICoordinationEvents.LockLost"/>) within <see cref="AlertsOptions.LockLostWindow"/>.</summary>
    public const string LockLost = "lock-lost";

    /// <summary>A node stopped reporting its status (raised by the status capability through <see cref="IAlertConditions"/>).</summary>
    public const string NodeNotReporting = "node-not-reporting";

    /// <summary>A Worker duty keeps failing (raised by the Worker's duties through <see cref="IAlertConditions"/>).</summary>
    public const string DutyFailing = "duty-failing";

    /// <summary>Every rule of the catalogue.</summary>
    public static IReadOnlyList<string> All { get; } = [CircuitOpen, RedisLatency, FallbackEngaged, MirrorBacklog, LockLost, NodeNotReporting, DutyFailing];

    /// <summary>The rules evaluated by the alerts capability itself from each node's events and metrics.</summary>
    internal static IReadOnlyList<string> Evaluated { get; } = [CircuitOpen, RedisLatency, FallbackEngaged, MirrorBacklog, LockLost];

    /// <summary>
    /// Whether <paramref name="rule"/> can name a rule: 1..64 characters of lowercase letters, digits and '-', starting
    /// with a letter (it becomes a metric tag and a webhook field, so it carries no data of its own).
    /// </summary>
    /// <param name="rule">The candidate name.</param>
    /// <returns><see langword="true"/> when the name is valid.</returns>
    public static bool IsValidName(string? rule) => rule is not null && NamePattern().IsMatch(rule);

    [GeneratedRegex("^[a-z][a-z0-9-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();
}
