using System.Diagnostics.Metrics;

namespace Coordination;

/// <summary>The duty instruments of the <c>Coordination</c> meter. The duty's name (a fixed, platform-defined set) is a tag; nothing else is.</summary>
internal sealed class DutyMetrics
{
    public const string Ok = "ok";
    public const string Failed = "failed";
    public const string Skipped = "skipped";
    public const string Unavailable = "unavailable";

    private readonly Counter<long> _runs;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _duration;

    public DutyMetrics(CoordinationMetrics metrics)
    {
        _runs = metrics.Meter.CreateCounter<long>("coordination.duty.runs", "{run}", "Duty rounds on this node, by duty and result (ok|failed: the duty ran; skipped: not due or another node runs it; unavailable: Redis did not answer).");
        _failures = metrics.Meter.CreateCounter<long>("coordination.duty.failures", "{run}", "Failed duty runs on this node, by duty.");
        _duration = metrics.Meter.CreateHistogram<double>("coordination.duty.duration", "s", "Duration of duty runs on this node, by duty and result.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300] });
    }

    public void Round(string duty, string result) => _runs.Add(1, Name(duty), Result(result));

    public void Ran(string duty, bool succeeded, TimeSpan duration)
    {
        var result = Result(succeeded ? Ok : Failed);
        _runs.Add(1, Name(duty), result);
        _duration.Record(duration.TotalSeconds, Name(duty), result);
        if (!succeeded)
        {
            _failures.Add(1, Name(duty));
        }
    }

    private static KeyValuePair<string, object?> Name(string duty) => new("coordination.duty.name", duty);

    private static KeyValuePair<string, object?> Result(string result) => new("coordination.duty.result", result);
}
