namespace Coordination.Chaos;

/// <summary>The scenario every workload records into: switched by the runner, read by the workloads on every call.</summary>
internal sealed class Recorder
{
    private ScenarioStats? _current;

    public ScenarioStats Current => Volatile.Read(ref _current) ?? throw new InvalidOperationException("No scenario is running.");

    public void Begin(ScenarioStats stats) => Volatile.Write(ref _current, stats);

    /// <summary>Records a failed call, classified by <see cref="ErrorClassifier"/>.</summary>
    public void Failure(long start, string kind, Exception exception)
    {
        var (type, expected) = ErrorClassifier.Classify(exception);
        var stats = Current;
        stats.Failure(start, $"{kind}: {type}", expected);
        if (!expected && stats.Notes.Count < 20)
        {
            stats.Notes.Enqueue($"{kind}: {exception.GetType().FullName}: {exception.Message}");
        }
    }
}
