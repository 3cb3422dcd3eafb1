namespace Coordination;

/// <summary>
/// Where the nodes of a system meet to decide, atomically, which of them sends each notification
/// (<see cref="AlertIncidentLogic"/>): PostgreSQL when the fallback store is configured, Redis otherwise, this
/// process alone while neither answers.
/// </summary>
internal interface IAlertStore
{
    /// <summary>A name for logs: <c>postgresql</c>, <c>redis</c> or <c>local</c>.</summary>
    string Kind { get; }

    /// <summary>
    /// Reports this node's <paramref name="conditions"/> (active or not) and also takes part in every incident that
    /// fires or that this node holds, so a node that stopped reporting is timed out by the others.
    /// </summary>
    /// <returns>The notifications this node must send.</returns>
    Task<IReadOnlyList<AlertNotification>> ReportAsync(string node, IReadOnlyList<AlertCondition> conditions, CancellationToken cancellationToken);
}
