namespace Coordination;

/// <summary>
/// Lets any capability of a node raise and clear an alert condition of its own (for example
/// <see cref="AlertRules.DutyFailing"/>). A raised condition is reported with this node's other conditions at each
/// evaluation of the alerts capability (<c>WithAlerts</c>): the system sends one <c>firing</c> notification per
/// incident, whichever and however many nodes raise it, and one <c>resolved</c> once every node cleared it (or
/// stopped reporting). Without <c>WithAlerts</c> the conditions are kept but nothing is sent. Thread-safe; calls
/// only change in-memory state and return at once.
/// </summary>
public interface IAlertConditions
{
    /// <summary>
    /// Raises <paramref name="rule"/> on this node, or updates its details when it is already raised.
    /// </summary>
    /// <param name="rule">The rule (<see cref="AlertRules"/>, or a name valid by <see cref="AlertRules.IsValidName"/>).</param>
    /// <param name="details">What an operator should read in the notification (at most 1024 characters kept); no secrets, keys or tenant data.</param>
    /// <exception cref="ArgumentException">The rule name is invalid, or is one the alerts capability evaluates itself (<see cref="AlertRules.CircuitOpen"/> ... <see cref="AlertRules.LockLost"/>).</exception>
    /// <exception cref="InvalidOperationException">64 distinct rules are already raised on this node.</exception>
    void Raise(string rule, string? details = null);

    /// <summary>Clears <paramref name="rule"/> on this node; nothing happens when it is not raised.</summary>
    /// <param name="rule">The rule.</param>
    /// <exception cref="ArgumentException">The rule name is invalid.</exception>
    void Clear(string rule);
}
