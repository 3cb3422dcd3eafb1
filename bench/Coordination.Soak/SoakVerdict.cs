using System.Globalization;

namespace Coordination.Soak;

/// <summary>
/// Whether the run was flat. The warm-up (<see cref="SoakSettings.Warmup"/>) is not judged. Memory: the mean working
/// set and the mean old generations after the latest full collection (gen2, LOH, POH), of the samples in the last third of the run, are at most
/// <see cref="SoakSettings.Threshold"/> (or <see cref="SoakSettings.MemoryFloorBytes"/>, whichever is larger) above those of
/// the middle third (a fall is not a leak). The heap as
/// <see cref="GC.GetTotalMemory(bool)"/> reads it is compared the same way but only reported: it includes the garbage
/// made since the last collection, a saw-tooth that moved the mean of a third by 10 to 20 % either way in one-minute
/// trials without any growth underneath (the heap as any last collection left it, gen0 and gen1 garbage included,
/// still moved by about 8 %). Connections: the pool's and Redis's counts after the warm-up never exceed their maximum
/// during it. PostgreSQL's is the library's Npgsql pool, which opens a connection whenever more calls than it holds
/// are in flight at once (up to its Max Pool Size), so a rare burst may add one late in a run: its mean over the last
/// third is at most <see cref="PostgresTolerance"/> connections above the middle third's (a leak climbs with the
/// operations, by far more over millions of them).
/// </summary>
internal sealed record SoakVerdict(IReadOnlyList<SoakVerdict.Check> Checks, SoakVerdict.Check Reported, long Errors)
{
    public bool Flat => Checks.All(check => check.Passed);

    public static SoakVerdict Judge(IReadOnlyList<Sample> samples, SoakSettings settings)
    {
        var third = settings.Duration / 3;
        var middle = samples.Where(s => s.Elapsed > third && s.Elapsed <= third * 2).ToList();
        var last = samples.Where(s => s.Elapsed > third * 2).ToList();
        var warm = samples.Where(s => s.Elapsed <= settings.Warmup).ToList();
        var judged = samples.Where(s => s.Elapsed > settings.Warmup).ToList();

        var checks = new List<Check>
        {
            Memory("working set", middle, last, s => s.WorkingSetBytes, settings.Threshold),
            Memory("old generations after full GC", middle, last, s => s.OldGenerationBytes, settings.Threshold),
            Connections("pool connections (open)", warm, judged, s => s.PoolConnections),
            Connections("Redis connected_clients", warm, judged, s => s.RedisClients),
        };
        if (samples.Any(s => s.PostgresConnections is not null))
        {
            checks.Add(PoolOnDemand("PostgreSQL connections", middle, last, s => s.PostgresConnections));
        }

        var reported = Memory("GC heap read without a collection (reported, not judged)", middle, last, s => s.GcHeapBytes, settings.Threshold);
        return new SoakVerdict(checks, reported, samples.Sum(s => s.Errors));
    }

    private static Check Memory(string what, List<Sample> middle, List<Sample> last, Func<Sample, long> value, double threshold)
    {
        if (middle.Count == 0 || last.Count == 0)
        {
            return new Check(what, false, "too few samples in the middle or last third");
        }

        var before = middle.Average(value);
        var after = last.Average(value);
        var growth = (after - before) / before;
        return new Check(
            what,
            after - before < Math.Max(threshold * before, SoakSettings.MemoryFloorBytes),
            string.Create(CultureInfo.InvariantCulture, $"mean {Mib(before)} in the middle third ({middle.Count} samples), {Mib(after)} in the last third ({last.Count}): {growth:+0.0 %;-0.0 %} (flat below +{threshold:0 %} or +{Mib(SoakSettings.MemoryFloorBytes)}, whichever is larger)"));
    }

    private static Check Connections(string what, List<Sample> warm, List<Sample> judged, Func<Sample, long?> value)
    {
        var warmValues = warm.Select(value).OfType<long>().ToList();
        var judgedValues = judged.Select(value).OfType<long>().ToList();
        if (warmValues.Count == 0 || judgedValues.Count == 0)
        {
            return new Check(what, false, "no reading during or after the warm-up");
        }

        var warmMax = warmValues.Max();
        var afterMax = judgedValues.Max();
        return new Check(
            what,
            afterMax <= warmMax,
            string.Create(CultureInfo.InvariantCulture, $"at most {warmMax} during the warm-up, at most {afterMax} after it (min {judgedValues.Min()}, last {judgedValues[^1]})"));
    }

    /// <summary>How many connections more, on average, the last third of a run may hold than the middle third, for a pool that grows on demand.</summary>
    public const double PostgresTolerance = 2;

    private static Check PoolOnDemand(string what, List<Sample> middle, List<Sample> last, Func<Sample, long?> value)
    {
        var before = middle.Select(value).OfType<long>().ToList();
        var after = last.Select(value).OfType<long>().ToList();
        if (before.Count == 0 || after.Count == 0)
        {
            return new Check(what, false, "too few readings in the middle or last third");
        }

        return new Check(
            what,
            after.Average() - before.Average() <= PostgresTolerance,
            string.Create(CultureInfo.InvariantCulture, $"mean {before.Average():0.0} in the middle third (at most {before.Max()}), {after.Average():0.0} in the last third (at most {after.Max()}; last {after[^1]}): flat up to +{PostgresTolerance:0} on average (a pool that opens connections on demand)"));
    }

    private static string Mib(double bytes) => FormattableString.Invariant($"{bytes / (1024 * 1024):0.0} MiB");

    /// <summary>One comparison of the verdict, with the numbers it compared.</summary>
    internal sealed record Check(string What, bool Passed, string Numbers);
}
