using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// <see cref="INodeReports"/>: the other nodes from Redis, aged by Redis's clock, and this node live. When Redis cannot
/// be read, the last read is shown, aged by the time since on this node's monotonic clock.
/// </summary>
internal sealed class NodeReportReader(
    NodeReportStore store,
    NodeReportCollector collector,
    IOptions<NodeReportOptions> options,
    TimeProvider time,
    ILogger<NodeReportReader> logger) : INodeReports
{
    private readonly NodeReportOptions _options = options.Value;
    private LastRead? _last;

    public string NodeName => collector.Identity.Name;

    public async Task<NodeReportsSnapshot> ReadAsync(CancellationToken cancellationToken = default)
    {
        var live = collector.CollectAsync(cancellationToken);
        LastRead? read;
        bool complete;
        try
        {
            var (now, nodes) = await store.ReadAsync(cancellationToken);
            var duties = await store.ReadDutiesAsync(cancellationToken);
            read = new LastRead(now, time.GetTimestamp(), nodes, duties);
            Volatile.Write(ref _last, read);
            complete = true;
        }
        catch (Exception ex) when (ex is CoordinationUnavailableException or RedisException or TimeoutException)
        {
            NodesLog.ReadFailed(logger, ex);
            read = Volatile.Read(ref _last);
            complete = false;
        }

        var self = await live;
        var nowMs = read is null
            ? time.GetUtcNow().ToUnixTimeMilliseconds()
            : read.RedisNow + (long)time.GetElapsedTime(read.Timestamp).TotalMilliseconds;
        var others = (read?.Nodes ?? [])
            .Where(n => n.Name != self.Name)
            .Take(_options.MaxNodes - 1) // Newest first; with this node, MaxNodes in all.
            .Select(n => n.Copy(n.Name, n.ReportedAt, IsStale(n, nowMs), self: false))
            .OrderBy(n => n.Name, StringComparer.Ordinal);
        return new NodeReportsSnapshot
        {
            ReadAt = DateTimeOffset.FromUnixTimeMilliseconds(nowMs),
            Complete = complete,
            Nodes = [self.Copy(self.Name, collector.ReportedAt, stale: false, self: true), .. others],
            Duties = read?.Duties ?? [],
        };
    }

    // Stale after StaleAfterIntervals of the node's own interval (this node's, when the report names none).
    private bool IsStale(NodeReport node, long nowMs)
    {
        var interval = node.IntervalMs > 0 ? node.IntervalMs : (long)_options.Interval.TotalMilliseconds;
        return node.ReportedAt is not { } at || nowMs - at.ToUnixTimeMilliseconds() > interval * _options.StaleAfterIntervals;
    }

    private sealed record LastRead(long RedisNow, long Timestamp, List<NodeReport> Nodes, List<NodeDutyReport> Duties);
}
