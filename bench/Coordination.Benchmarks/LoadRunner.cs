using System.Diagnostics;

namespace Coordination.Benchmarks;

/// <summary>The outcome of running one operation with a number of concurrent callers for a while.</summary>
internal sealed class LoadResult
{
    private readonly List<long[]> _latencies = [];

    public long Operations { get; private set; }

    public long Errors { get; private set; }

    public TimeSpan Elapsed { get; private set; }

    public double OperationsPerSecond => Operations / Elapsed.TotalSeconds;

    public void Add(LoadResult other)
    {
        Operations += other.Operations;
        Errors += other.Errors;
        Elapsed += other.Elapsed;
        _latencies.AddRange(other._latencies);
    }

    public void Add(long[] latencies, long errors, TimeSpan elapsed)
    {
        _latencies.Add(latencies);
        Operations += latencies.Length;
        Errors += errors;
        Elapsed += elapsed;
    }

    /// <summary>The latency percentiles in microseconds.</summary>
    public (double P50, double P99) Percentiles()
    {
        var all = new long[_latencies.Sum(l => l.Length)];
        var offset = 0;
        foreach (var latencies in _latencies)
        {
            latencies.CopyTo(all, offset);
            offset += latencies.Length;
        }

        if (all.Length == 0)
        {
            return (double.NaN, double.NaN);
        }

        Array.Sort(all);
        return (ToMicroseconds(all[(int)Math.Round(0.50 * (all.Length - 1))]), ToMicroseconds(all[(int)Math.Round(0.99 * (all.Length - 1))]));
    }

    private static double ToMicroseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;
}

/// <summary>Runs an operation from N concurrent callers back to back until a deadline, timing each call.</summary>
internal static class LoadRunner
{
    /// <param name="operation">Called with the caller's number and its call count; an exception counts as an error.</param>
    public static async Task<LoadResult> RunAsync(Func<int, long, ValueTask> operation, int concurrency, TimeSpan duration, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var perCaller = new List<long>[concurrency];
        var errors = new long[concurrency];
        var callers = Enumerable.Range(0, concurrency).Select(caller => Task.Run(
            async () =>
            {
                var latencies = new List<long>(16_384);
                for (var call = 0L; !cancellationToken.IsCancellationRequested; call++)
                {
                    var before = Stopwatch.GetTimestamp();
                    if (before >= stopAt)
                    {
                        break;
                    }

                    try
                    {
                        await operation(caller, call);
                        latencies.Add(Stopwatch.GetTimestamp() - before);
                    }
#pragma warning disable CA1031 // A failed call is counted, not fatal: the run reports its error count.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                        errors[caller]++;
                    }
                }

                perCaller[caller] = latencies;
            },
            cancellationToken));
        await Task.WhenAll(callers);
        var elapsed = Stopwatch.GetElapsedTime(started);

        var result = new LoadResult();
        result.Add([.. perCaller.SelectMany(l => l)], errors.Sum(), elapsed);
        return result;
    }
}
