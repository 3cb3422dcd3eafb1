using System.Text.Json;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Writes this node's report into Redis every <see cref="NodeReportOptions.Interval"/> (the first at start). A write
/// that fails is logged once per outage and counted; the node shows stale to the others until a write succeeds.
/// </summary>
internal sealed class NodeReporter(
    NodeReportCollector collector,
    NodeReportStore store,
    NodeMetrics metrics,
    IOptions<NodeReportOptions> options,
    TimeProvider time,
    ILogger<NodeReporter> logger) : BackgroundService
{
    /// <summary>The largest report written; past it, the sections are left out.</summary>
    public const int MaxReportBytes = 64 * 1024;

    // A stopping host waits at most this long for the withdrawal; Redis being down must not hold the shutdown.
    private static readonly TimeSpan WithdrawTimeout = TimeSpan.FromSeconds(2);

    private readonly NodeReportOptions _options = options.Value;
    private long _failures;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        NodesLog.Started(logger, collector.Identity.Name, collector.Identity.Role, _options.Interval);
        using var timer = new PeriodicTimer(_options.Interval, time);
        try
        {
            do
            {
                await ReportOnceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: StopAsync withdraws the report.
        }
    }

    /// <summary>Stops reporting and withdraws this node's report, so a node stopped on purpose is not shown (or alerted) as one that stopped reporting; a withdrawal that fails leaves the report to turn stale and expire.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(WithdrawTimeout);
        try
        {
            await store.RemoveAsync(collector.Identity.Name, bounded.Token);
        }
#pragma warning disable CA1031 // Best effort on the way out: whatever Redis answers, the report expires on its own and the stop goes on.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            NodesLog.WithdrawFailed(logger, ex);
        }
    }

    internal async Task ReportOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var report = await collector.CollectAsync(cancellationToken);
            var json = JsonSerializer.Serialize(report, NodeReportJson.Options);
            if (json.Length > MaxReportBytes)
            {
                NodesLog.ReportTooLarge(logger, json.Length, MaxReportBytes);
                json = JsonSerializer.Serialize(WithoutSections(report), NodeReportJson.Options);
            }

            var (now, nodes, dropped) = await store.WriteAsync(report.Name, json, cancellationToken);
            collector.MarkReported(now);
            metrics.RecordWritten(nodes, dropped);
            NodesLog.ReportWritten(logger, nodes, dropped);
            if (Interlocked.Exchange(ref _failures, 0) is var failed and > 0)
            {
                NodesLog.ReportResumed(logger, failed);
            }
        }
#pragma warning disable CA1031 // The reporter must never stop the host: any failure costs one report, logged once per outage.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
        {
            metrics.RecordFailed();
            if (Interlocked.Increment(ref _failures) == 1)
            {
                NodesLog.ReportFailed(logger, _options.Interval, ex);
            }
        }
    }

    private static NodeReport WithoutSections(NodeReport report) => new()
    {
        Name = report.Name,
        Role = report.Role,
        Version = report.Version,
        StartedAt = report.StartedAt,
        IntervalMs = report.IntervalMs,
        Redis = report.Redis,
        Circuit = report.Circuit,
        Fallback = report.Fallback,
        Locks = report.Locks,
        Cache = report.Cache,
        ActiveSessions = report.ActiveSessions,
        RateLimits = report.RateLimits,
    };
}
