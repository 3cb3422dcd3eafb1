using System.Diagnostics;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>What one client did in one cell, over all its rounds: per kind, the latency of each successful operation, and the failures by reason.</summary>
internal sealed class MixResult
{
    private readonly List<long>[] _latencies = [.. Mix.Kinds.Select(_ => new List<long>())];
    private readonly Dictionary<string, long> _errors = new(StringComparer.Ordinal);
    private readonly long[] _errorsByKind = new long[Mix.Kinds.Count];
    private long[]? _sortedAll;
    private readonly long[]?[] _sorted = new long[Mix.Kinds.Count][];

    public TimeSpan Elapsed { get; private set; }

    /// <summary>The Redis server's commands and CPU during this client's rounds.</summary>
    public Locks.RedisStats ServerUse { get; private set; }

    public long Operations => _latencies.Sum(l => (long)l.Count);

    public long Errors => _errorsByKind.Sum();

    public IReadOnlyDictionary<string, long> ErrorsByReason => _errors;

    public double OperationsPerSecond => Elapsed > TimeSpan.Zero ? Operations / Elapsed.TotalSeconds : 0;

    public long OperationsOf(OperationKind kind) => _latencies[(int)kind].Count;

    public long ErrorsOf(OperationKind kind) => _errorsByKind[(int)kind];

    public double OperationsPerSecondOf(OperationKind kind) => Elapsed > TimeSpan.Zero ? OperationsOf(kind) / Elapsed.TotalSeconds : 0;

    /// <summary>HTTP requests per second: each kind's operations times the requests one of them sends.</summary>
    public double RequestsPerSecond(IMixClient client) =>
        Elapsed > TimeSpan.Zero ? Mix.Kinds.Sum(k => OperationsOf(k) * (long)client.RequestsPer(k)) / Elapsed.TotalSeconds : 0;

    /// <summary>A latency percentile of all operations, in microseconds (nearest rank; NaN without operations).</summary>
    public double Percentile(double quantile) => Percentile(_sortedAll ??= Sorted(_latencies.SelectMany(l => l)), quantile);

    /// <summary>A latency percentile of one kind's operations, in microseconds.</summary>
    public double Percentile(OperationKind kind, double quantile) => Percentile(_sorted[(int)kind] ??= Sorted(_latencies[(int)kind]), quantile);

    public void AddRound(List<long>[][] latenciesPerCaller, Dictionary<string, long>[] errorsPerCaller, long[][] errorsByKindPerCaller, TimeSpan elapsed, Locks.RedisStats serverUse)
    {
        foreach (var callerLatencies in latenciesPerCaller)
        {
            for (var k = 0; k < callerLatencies.Length; k++)
            {
                _latencies[k].AddRange(callerLatencies[k]);
            }
        }

        foreach (var errors in errorsPerCaller)
        {
            foreach (var (reason, count) in errors)
            {
                _errors[reason] = _errors.GetValueOrDefault(reason) + count;
            }
        }

        foreach (var byKind in errorsByKindPerCaller)
        {
            for (var k = 0; k < byKind.Length; k++)
            {
                _errorsByKind[k] += byKind[k];
            }
        }

        Elapsed += elapsed;
        ServerUse = ServerUse.Add(serverUse);
        _sortedAll = null;
        Array.Clear(_sorted);
    }

    private static long[] Sorted(IEnumerable<long> latencies)
    {
        var array = latencies.ToArray();
        Array.Sort(array);
        return array;
    }

    private static double Percentile(long[] sorted, double quantile) =>
        sorted.Length == 0
            ? double.NaN
            : sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)] * 1_000_000.0 / Stopwatch.Frequency;
}
