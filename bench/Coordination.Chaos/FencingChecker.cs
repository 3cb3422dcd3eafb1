namespace Coordination.Chaos;

/// <summary>
/// The protected resource of the lock workload: every holder enters with its fencing token and writes with it. Two
/// holders inside at once are tolerated only when the newcomer's token is larger (the resource then refuses the older
/// holder's writes: fenced); a newcomer whose token is not larger than a holder inside, or not larger than every token
/// the resource has seen, is a violation.
/// </summary>
internal sealed class FencingChecker(Recorder recorder)
{
    public const string OverlapInvariant = "lock: two holders without a larger token";
    public const string IncreasingInvariant = "lock: fencing token not increasing";
    public const string FencedOverlaps = "lock: overlaps fenced by a larger token";

    private readonly Dictionary<string, Resource> _resources = new(StringComparer.Ordinal);

    /// <summary>A holder enters the resource <paramref name="name"/> with <paramref name="token"/>.</summary>
    public void Enter(string name, long token)
    {
        var stats = recorder.Current;
        lock (_resources)
        {
            if (!_resources.TryGetValue(name, out var resource))
            {
                _resources[name] = resource = new Resource();
            }

            stats.Check(OverlapInvariant);
            stats.Check(IncreasingInvariant);
            if (resource.Inside.Any(t => t >= token))
            {
                stats.Violation(OverlapInvariant);
            }
            else if (resource.Inside.Count > 0)
            {
                stats.Checked.AddOrUpdate(FencedOverlaps, 1, (_, n) => n + 1);
            }

            if (token <= resource.MaxToken)
            {
                stats.Violation(IncreasingInvariant);
            }

            resource.MaxToken = Math.Max(resource.MaxToken, token);
            resource.Inside.Add(token);
        }
    }

    /// <summary>A write with <paramref name="token"/>: false when the resource refuses it (a larger token was seen).</summary>
    public bool Write(string name, long token)
    {
        lock (_resources)
        {
            return token >= _resources[name].MaxToken;
        }
    }

    public void Leave(string name, long token)
    {
        lock (_resources)
        {
            _resources[name].Inside.Remove(token);
        }
    }

    private sealed class Resource
    {
        public List<long> Inside { get; } = [];

        public long MaxToken { get; set; }
    }
}
