using System.Collections.Concurrent;
using System.Diagnostics;

namespace Coordination.Chaos;

/// <summary>
/// What one scenario saw: every call (its kind, start, latency, outcome), errors by type, the fault's start and end, the
/// first call served by Redis again after the end (per probe), and each invariant's violations. Thread-safe.
/// </summary>
internal sealed class ScenarioStats(Fault fault)
{
    private readonly Lock _gate = new();
    private readonly List<(long Start, double Milliseconds)> _latencies = [];
    private readonly ConcurrentDictionary<string, long> _firstServed = new(StringComparer.Ordinal);
    private long _calls;
    private long _errors;
    private long _faultStart;
    private long _faultEnd;

    public Fault Fault { get; } = fault;

    public long Started { get; } = Stopwatch.GetTimestamp();

    public long Calls => Interlocked.Read(ref _calls);

    public long Errors => Interlocked.Read(ref _errors);

    /// <summary>Errors by "kind: type" that the contract documents (CoordinationUnavailableException, HTTP 503, ...).</summary>
    public ConcurrentDictionary<string, long> ExpectedErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>Errors by "kind: type" outside the contract: each is a contract violation.</summary>
    public ConcurrentDictionary<string, long> UnexpectedErrors { get; } = new(StringComparer.Ordinal);

    /// <summary>Violations by invariant name (every invariant is listed, 0 included).</summary>
    public ConcurrentDictionary<string, long> Violations { get; } = new(StringComparer.Ordinal);

    /// <summary>Checked items by invariant name (locks entered, windows, sessions read back, cache keys read back).</summary>
    public ConcurrentDictionary<string, long> Checked { get; } = new(StringComparer.Ordinal);

    /// <summary>Largest values seen by name (the most admitted in one window), to show a check was not vacuous.</summary>
    public ConcurrentDictionary<string, long> Maxima { get; } = new(StringComparer.Ordinal);

    public void Maximum(string name, long value) => Maxima.AddOrUpdate(name, value, (_, n) => Math.Max(n, value));

    /// <summary>The library nodes' warnings and errors during the scenario, by event, counted.</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Notes of the run (what a check could not do, a first unexpected message).</summary>
    public ConcurrentQueue<string> Notes { get; } = new();

    public TimeSpan? Recovery { get; set; }

    public bool Recovered { get; set; }

    public long FaultStart => Interlocked.Read(ref _faultStart);

    public long FaultEnd => Interlocked.Read(ref _faultEnd);

    public void MarkFaultStart() => Interlocked.Exchange(ref _faultStart, Stopwatch.GetTimestamp());

    public void MarkFaultEnd() => Interlocked.Exchange(ref _faultEnd, Stopwatch.GetTimestamp());

    public void Success(long start, string? probe = null)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _calls);
        AddLatency(start, now);
        if (probe is not null)
        {
            var end = FaultEnd;
            if (end != 0 && now >= end)
            {
                _firstServed.TryAdd(probe, now);
            }
        }
    }

    public void Failure(long start, string key, bool expected)
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref _calls);
        Interlocked.Increment(ref _errors);
        AddLatency(start, now);
        (expected ? ExpectedErrors : UnexpectedErrors).AddOrUpdate(key, 1, (_, n) => n + 1);
    }

    public void Violation(string invariant, long count = 1) => Violations.AddOrUpdate(invariant, count, (_, n) => n + count);

    public void Check(string invariant, long count = 1)
    {
        Checked.AddOrUpdate(invariant, count, (_, n) => n + count);
        Violations.TryAdd(invariant, 0);
    }

    /// <summary>When <paramref name="probe"/> was first served after the fault ended, or null.</summary>
    public long? FirstServed(string probe) => _firstServed.TryGetValue(probe, out var at) ? at : null;

    /// <summary>The p99 latency (ms) of the calls that started between the fault's start and <paramref name="until"/>.</summary>
    public double? P99During(long until) => P99Between(FaultStart, until);

    /// <summary>The p99 latency (ms) of all calls of the scenario.</summary>
    public double? P99All() => P99Between(0, long.MaxValue);

    private double? P99Between(long from, long until)
    {
        double[] window;
        lock (_gate)
        {
            window = [.. _latencies.Where(l => l.Start >= from && l.Start <= until).Select(l => l.Milliseconds)];
        }

        if (window.Length == 0)
        {
            return null;
        }

        Array.Sort(window);
        return window[Math.Min(window.Length - 1, (int)Math.Ceiling(window.Length * 0.99) - 1)];
    }

    private void AddLatency(long start, long end)
    {
        var milliseconds = Stopwatch.GetElapsedTime(start, end).TotalMilliseconds;
        lock (_gate)
        {
            _latencies.Add((start, milliseconds));
        }
    }
}
