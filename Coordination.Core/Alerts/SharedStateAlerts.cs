using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Raises and clears <see cref="AlertRules.NodeNotReporting"/> and <see cref="AlertRules.DutyFailing"/> from the state
/// every node shares in Redis (the node reports and the duties' state, <see cref="INodeReports"/>), so every node with
/// alerts sees the same condition and the incident resolves once no node holds it. Runs only where node reports are
/// registered (<c>WithNodeReports</c>); a read that fails or is incomplete changes nothing.
/// </summary>
internal sealed class SharedStateAlerts(
    IServiceProvider services,
    IAlertConditions conditions,
    IOptions<AlertsOptions> options,
    ILogger<SharedStateAlerts> logger) : BackgroundService
{
    // Details name at most this many nodes or duties: the notification stays readable and bounded.
    private const int MaxNamed = 10;

    // The rules this service raised: it clears only those, so a condition another part of the application raised
    // under the same rule (IAlertConditions is public) is left to its raiser.
    private readonly HashSet<string> _raised = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (services.GetService<INodeReports>() is not { } reports)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.EvaluationInterval);
        do
        {
            try
            {
                Evaluate(await reports.ReadAsync(stoppingToken));
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is CoordinationUnavailableException or TimeoutException)
            {
                AlertsLog.SharedStateUnreadable(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    internal void Evaluate(NodeReportsSnapshot snapshot)
    {
        if (!snapshot.Complete)
        {
            return;
        }

        var stale = snapshot.Nodes.Where(node => node.Stale).Select(node => node.Name).Order(StringComparer.Ordinal).ToArray();
        Set(AlertRules.NodeNotReporting, stale, count => string.Create(
            CultureInfo.InvariantCulture,
            $"{count} node(s) stopped reporting: {Named(stale)}."));

        var failing = snapshot.Duties.Where(duty => duty.Result == "failed").OrderBy(duty => duty.Name, StringComparer.Ordinal).ToArray();
        Set(AlertRules.DutyFailing, failing, count => string.Create(
            CultureInfo.InvariantCulture,
            $"{count} duty(ies) failed their last run: {Named(failing.Select(d => $"{d.Name} on {d.Node ?? "?"} ({d.Error ?? "error"}, {d.Failures} of {d.Runs} runs failed)"))}."));
    }

    private void Set<T>(string rule, IReadOnlyCollection<T> holding, Func<int, string> details)
    {
        if (holding.Count > 0)
        {
            conditions.Raise(rule, details(holding.Count));
            _raised.Add(rule);
        }
        else if (_raised.Remove(rule))
        {
            conditions.Clear(rule);
        }
    }

    private static string Named(IEnumerable<string> names)
    {
        var list = names.ToArray();
        return list.Length <= MaxNamed ? string.Join(", ", list) : string.Join(", ", list.Take(MaxNamed)) + $" and {list.Length - MaxNamed} more";
    }
}
