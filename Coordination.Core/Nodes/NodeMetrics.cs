using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>The node-report instruments of the <c>Coordination</c> meter. Tags never carry node names (their number is unbounded over time).</summary>
internal sealed class NodeMetrics
{
    private static readonly KeyValuePair<string, object?> Written = new("coordination.nodes.outcome", "written");
    private static readonly KeyValuePair<string, object?> Failed = new("coordination.nodes.outcome", "failed");
    private readonly Counter<long> _reports;
    private readonly Counter<long> _dropped;
    private long _reporting = -1;

    public NodeMetrics(CoordinationMetrics metrics)
    {
        var meter = metrics.Meter;
        _reports = meter.CreateCounter<long>("coordination.nodes.reports", "{report}", "This node's reports, by outcome (written, failed).");
        _dropped = meter.CreateCounter<long>("coordination.nodes.dropped", "{report}", "Reports of other nodes this node's writes dropped: expired, or over Coordination:Nodes:MaxNodes.");
        meter.CreateObservableGauge(
            "coordination.nodes.reporting",
            () => Interlocked.Read(ref _reporting) is var reporting and >= 0 ? [new Measurement<long>(reporting)] : Array.Empty<Measurement<long>>(),
            "{node}",
            "Nodes whose reports Redis kept at this node's last write.");
    }

    public void RecordWritten(long reporting, long dropped)
    {
        _reports.Add(1, Written);
        Interlocked.Exchange(ref _reporting, reporting);
        if (dropped > 0)
        {
            _dropped.Add(dropped);
        }
    }

    public void RecordFailed() => _reports.Add(1, Failed);
}
