using System.Collections.Concurrent;

namespace Coordination;

/// <summary>
/// The conditions other capabilities raised on this node (<see cref="IAlertConditions"/>), read by the alerts runtime
/// at each evaluation. Registered by <c>AddCoordination</c> whether or not alerts are enabled, so a capability can
/// always raise; bounded to <see cref="MaxRules"/> distinct rules.
/// </summary>
internal sealed class AlertConditions : IAlertConditions
{
    public const int MaxRules = 64;
    public const int MaxDetailsLength = 1024;

    private readonly ConcurrentDictionary<string, Entry> _rules = new(StringComparer.Ordinal);

    public void Raise(string rule, string? details = null)
    {
        Validate(rule);
        if (AlertRules.Evaluated.Contains(rule))
        {
            throw new ArgumentException($"The rule '{rule}' is evaluated by the alerts capability itself and cannot be raised.", nameof(rule));
        }

        details = Truncate(details);
        if (_rules.TryGetValue(rule, out var entry))
        {
            entry.Raise(details);
            return;
        }

        // Known rules stay in the table once seen (cleared, not removed), so the bound is on distinct names.
        if (_rules.Count >= MaxRules)
        {
            throw new InvalidOperationException($"{MaxRules} distinct alert rules are already known on this node; '{rule}' cannot be added.");
        }

        _rules.GetOrAdd(rule, static _ => new Entry()).Raise(details);
    }

    public void Clear(string rule)
    {
        Validate(rule);
        if (_rules.TryGetValue(rule, out var entry))
        {
            entry.Clear();
        }
    }

    /// <summary>Every rule raised on this node since it started, with whether it is raised now.</summary>
    public IReadOnlyList<AlertCondition> Snapshot() =>
        [.. _rules.Select(pair => pair.Value.Read(pair.Key))];

    internal static string? Truncate(string? details) =>
        details is { Length: > MaxDetailsLength } ? details[..MaxDetailsLength] : details;

    private static void Validate(string rule)
    {
        if (!AlertRules.IsValidName(rule))
        {
            throw new ArgumentException("An alert rule name is 1..64 characters of lowercase letters, digits and '-', starting with a letter.", nameof(rule));
        }
    }

    private sealed class Entry
    {
        private readonly Lock _gate = new();
        private bool _raised;
        private string? _details;

        public void Raise(string? details)
        {
            lock (_gate)
            {
                _raised = true;
                _details = details;
            }
        }

        public void Clear()
        {
            lock (_gate)
            {
                _raised = false;
            }
        }

        public AlertCondition Read(string rule)
        {
            lock (_gate)
            {
                return new AlertCondition(rule, _raised, _raised ? _details : null);
            }
        }
    }
}
