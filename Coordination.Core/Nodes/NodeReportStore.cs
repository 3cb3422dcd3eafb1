using System.Text.Json;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Coordination;

/// <summary>Writes this node's report and reads every node's, and the duties' state, through the executor.</summary>
internal sealed class NodeReportStore(RedisExecutor executor, NodeKeys keys, NodeReportOptions options, ILogger<NodeReportStore> logger)
{
    /// <summary>The most duties read (the Worker writes a handful).</summary>
    public const int MaxDuties = 100;

    /// <summary>The longest error text of a duty shown.</summary>
    public const int MaxDutyError = 500;

    public NodeKeys Keys => keys;

    /// <summary>Stores <paramref name="report"/> under <paramref name="node"/>; returns Redis's time, the nodes kept and the reports dropped.</summary>
    public async Task<(long Now, long Nodes, long Dropped)> WriteAsync(string node, string report, CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await executor.ExecuteAsync(
            "nodes.report",
            idempotent: true,
            static (db, s) => RedisScript.NodeReport.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: new[] { keys.Reports, keys.Seen },
                Arguments: new RedisValue[] { node, report, (long)options.Expiry.TotalMilliseconds, options.MaxNodes }),
            cancellationToken))!;
        return ((long)result[0], (long)result[1], (long)result[2]);
    }

    /// <summary>Removes <paramref name="node"/>'s report (a node that stops cleanly is gone, not stale).</summary>
    /// <remarks>Two plain deletions, not a transaction: they are allowed on a server at its memory limit, and either alone leaves nothing a reader would show (the report without its place expires with the hash).</remarks>
    public async Task RemoveAsync(string node, CancellationToken cancellationToken)
    {
        await executor.ExecuteAsync(
            "nodes.remove",
            idempotent: true,
            static (db, s) => db.SortedSetRemoveAsync(s.Keys.Seen, s.Node),
            (Keys: keys, Node: (RedisValue)node),
            cancellationToken);
        await executor.ExecuteAsync(
            "nodes.remove",
            idempotent: true,
            static (db, s) => db.HashDeleteAsync(s.Keys.Reports, s.Node),
            (Keys: keys, Node: (RedisValue)node),
            cancellationToken);
    }

    /// <summary>Redis's time and the reports of the nodes that reported within the expiry (newest first, at most MaxNodes).</summary>
    public async Task<(long Now, List<NodeReport> Nodes)> ReadAsync(CancellationToken cancellationToken)
    {
        var result = (RedisResult[])(await executor.ExecuteAsync(
            "nodes.read",
            idempotent: true,
            static (db, s) => RedisScript.NodeRead.EvaluateByShaAsync(db, s.Keys, s.Arguments),
            (Keys: new[] { keys.Reports, keys.Seen },
                Arguments: new RedisValue[] { (long)options.Expiry.TotalMilliseconds, options.MaxNodes }),
            cancellationToken))!;
        var now = (long)result[0];
        var nodes = new List<NodeReport>((result.Length - 1) / 3);
        var unreadable = 0;
        for (var i = 1; i + 2 < result.Length; i += 3)
        {
            var reportedAt = (long)(double)result[i + 1];
            if (result[i + 2].IsNull || (string?)result[i + 2] is not { } json)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize<NodeReport>(json, NodeReportJson.Options) is { } report)
                {
                    // The hash field is the name the node reported under; the JSON's own name is not trusted over it.
                    nodes.Add(report.Copy((string)result[i]!, DateTimeOffset.FromUnixTimeMilliseconds(reportedAt), stale: false, self: false));
                }
            }
            catch (JsonException)
            {
                unreadable++;
            }
        }

        if (unreadable > 0)
        {
            NodesLog.Unreadable(logger, unreadable);
        }

        return (now, nodes);
    }

    /// <summary>The duties' state as the Worker recorded it (at most <see cref="MaxDuties"/>, by name); empty when there is none.</summary>
    public async Task<List<NodeDutyReport>> ReadDutiesAsync(CancellationToken cancellationToken)
    {
        var entries = await executor.ExecuteAsync(
            "nodes.duties",
            idempotent: true,
            static (db, key) => db.HashGetAllAsync(key),
            keys.Duties,
            cancellationToken);
        var duties = new List<NodeDutyReport>(Math.Min(entries.Length, MaxDuties));
        var unreadable = 0;
        foreach (var entry in entries.OrderBy(e => (string?)e.Name, StringComparer.Ordinal).Take(MaxDuties))
        {
            try
            {
                if (JsonSerializer.Deserialize<NodeDutyReport>((string)entry.Value!, NodeReportJson.Options) is { } duty)
                {
                    duties.Add(new NodeDutyReport
                    {
                        Name = duty.Name is { Length: > 0 } name ? name : (string?)entry.Name ?? string.Empty,
                        Node = duty.Node,
                        LastRunStartedAt = duty.LastRunStartedAt,
                        LastRunEndedAt = duty.LastRunEndedAt,
                        Result = duty.Result,
                        Error = duty.Error is { Length: > MaxDutyError } error ? error[..MaxDutyError] : duty.Error,
                        NextRunAt = duty.NextRunAt,
                        Runs = duty.Runs,
                        Failures = duty.Failures,
                    });
                }
            }
            catch (JsonException)
            {
                unreadable++;
            }
        }

        if (unreadable > 0)
        {
            NodesLog.Unreadable(logger, unreadable);
        }

        return duties;
    }
}
