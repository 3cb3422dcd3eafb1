using System.Globalization;
using System.Runtime;
using System.Text;
using Coordination.Benchmarks;

namespace Coordination.Soak;

/// <summary>The markdown report of a soak run (docs/soak.md).</summary>
internal sealed class SoakReport
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;

    public required SoakSettings Settings { get; init; }

    public required DateTimeOffset Started { get; init; }

    public required string LoadAtStart { get; init; }

    public required string LoadAtEnd { get; init; }

    public required string RedisServer { get; init; }

    public required string? PostgresServer { get; init; }

    public required IReadOnlyList<Sample> Samples { get; init; }

    public required SoakVerdict Verdict { get; init; }

    public required IReadOnlyDictionary<string, long> ErrorKinds { get; init; }

    public required long Operations { get; init; }

    public required long FactoryCalls { get; init; }

    public string ToMarkdown()
    {
        var s = Settings;
        var md = new StringBuilder();
        md.AppendLine("# Soak run: memory and connections under a steady load");
        md.AppendLine();
        md.AppendLine("A steady mixed workload through the library (a host built with `AddCoordination()`) for a long stretch, sampled at intervals, to show that memory and connection counts stay flat. Written by `bench/Coordination.Soak`; not part of CI (the full run takes ten minutes on an otherwise idle machine).");
        md.AppendLine();
        md.AppendLine(Invariant, $"- Command: `{s.Command()}`");
        md.AppendLine(Invariant, $"- Date: {Started:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine(Invariant, $"- Machine: {MachineInfo.Describe()}");
        md.AppendLine(Invariant, $"- Load average (1/5/15 min) at start: {LoadAtStart}; at end: {LoadAtEnd} (a load near or above the core count means the machine was not idle)");
        md.AppendLine(Invariant, $"- Redis: {RedisServer} on a free loopback port, started by the run, no persistence");
        md.AppendLine(PostgresServer is null
            ? "- PostgreSQL: not run (`--no-postgres`): no fallback configured"
            : string.Create(Invariant, $"- PostgreSQL: {PostgresServer}, a throwaway cluster started by the run (fsync off), configured as the fallback (`ConnectionStrings:coordinationdb`): key/value writes are copied to it"));
        md.AppendLine(Invariant, $"- Settings: {Minutes(s.Duration)} with {s.Callers} callers, a sample every {s.SampleInterval.TotalSeconds:0.#} s; warm-up (not judged) the first {Minutes(s.Warmup)}; memory threshold +{s.Threshold:0 %} or +2 MiB, whichever is larger; {(GCSettings.IsServerGC ? "server" : "workstation")} GC{(GCSettings.LatencyMode == GCLatencyMode.Interactive ? " (concurrent)" : string.Empty)}; default options otherwise (tenant `soak`, key prefix `soak`)");
        md.AppendLine(Invariant, $"- Workload: {SoakWorkload.Describe}");
        md.AppendLine();

        md.AppendLine("## Verdict");
        md.AppendLine();
        md.AppendLine(Invariant, $"**{(Verdict.Flat ? "Flat" : "Not flat")}** (exit code {(Verdict.Flat ? 0 : 1)}).");
        md.AppendLine();
        foreach (var check in Verdict.Checks)
        {
            md.AppendLine(Invariant, $"- {check.What}: {(check.Passed ? "flat" : "NOT flat")}; {check.Numbers}");
        }

        md.AppendLine(Invariant, $"- {Verdict.Reported.What}: {(Verdict.Reported.Passed ? "within" : "beyond")} the threshold; {Verdict.Reported.Numbers}");
        md.AppendLine(Invariant, $"- Operations: {Operations:N0} completed as expected; errors: {Verdict.Errors:N0}{(ErrorKinds.Count == 0 ? string.Empty : " (" + string.Join(", ", ErrorKinds.OrderByDescending(e => e.Value).Select(e => string.Create(Invariant, $"{e.Key} x{e.Value:N0}"))) + ")")}; cache factory calls: {FactoryCalls:N0}");
        md.AppendLine();

        md.AppendLine("## Samples");
        md.AppendLine();
        md.AppendLine("| elapsed | ops/s | errors | working set | GC heap | old generations after full GC | gen0/1/2 | threads | pool | Redis clients | Redis used_memory | PostgreSQL conns |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var x in Samples)
        {
            var warm = x.Elapsed <= s.Warmup ? " (warm-up)" : string.Empty;
            md.AppendLine(Invariant, $"| {x.Elapsed:mm\\:ss}{warm} | {x.OperationsPerSecond:N0} | {x.Errors:N0} | {Mib(x.WorkingSetBytes)} | {Mib(x.GcHeapBytes)} | {Mib(x.OldGenerationBytes)} | {x.Gen0}/{x.Gen1}/{x.Gen2} | {x.Threads} | {x.PoolConnections?.ToString(Invariant) ?? "n/a"} | {x.RedisClients} | {Mib(x.RedisUsedMemoryBytes)} | {x.PostgresConnections?.ToString(Invariant) ?? "n/a"} |");
        }

        md.AppendLine();
        md.AppendLine("## How to read it");
        md.AppendLine();
        md.AppendLine("- Each row is one sample: ops/s and errors are of the interval since the previous row; everything else is the value at that moment. MiB are 1,048,576 bytes.");
        md.AppendLine("- Working set is this process's resident memory (the run's own bookkeeping is the list of samples and the session slots, a few KiB). GC heap is `GC.GetTotalMemory(false)`, read without forcing a collection: live objects plus the garbage made since the last collection, so it swings with the gen0 budget from one row to the next (reported, not judged). Old generations after full GC is gen2 + large + pinned object heaps (`GCMemoryInfo.GenerationInfo[2..4].SizeAfterBytes`) as the latest full collection left them (background or blocking, whichever came last; the concurrent GC runs background gen2 collections on its own): what survives every collection, where a leak ends up (judged). No run forces a collection. The gen0/1/2 columns are cumulative collection counts.");
        md.AppendLine("- Memory is judged on thirds of the whole run: the mean working set and old generations after full GC of the last third against those of the middle third (both after the warm-up); flat when the growth is below the threshold (10 % by default) or below 2 MiB, whichever is larger: the old generations are about 10 MiB here and move by a few MiB between samples with the collections, so 10 % of them alone would be below their own noise. A leak shows as growth from one third to the next; a fall is not a leak.");
        md.AppendLine("- Connections: pool is the coordinator's open Redis connections (the `coordination.pool.connections` gauge, state `open`); Redis clients is `connected_clients` of `INFO clients` (the pool, the subscriber connections and this run's admin connection); PostgreSQL conns counts the client backends of the database in `pg_stat_activity` (the library's pooled connections plus this run's sampling connection; autovacuum workers left out). The pool and Redis clients may not rise above what the warm-up reached: a connection leak climbs with time. PostgreSQL connections are judged on their mean, last third against middle third (at most 2 more): the Npgsql pool opens one whenever more calls than it holds are in flight at once, so a rare burst can add one late in a run, while a leak would add them by the dozen over millions of operations. The pool grows under the start's burst and closes a connection after a minute of light load (`ShrinkAfterIdle`), so it may fall; PostgreSQL's count follows the library's Npgsql pool, which grows with the calls that write PostgreSQL at the same time (the durable copies of sessions and key/value writes), about one connection per caller, during the first seconds (a warm-up much shorter than the default 2 min can end before it is full).");
        md.AppendLine("- Redis used_memory is reported, not judged: the key spaces are bounded (1,000 keys, 1,000 cache entries, at most callers x 16 sessions, 256 rate-limit keys), so it should level off once they are all written.");
        md.AppendLine("- Errors are counted, not judged: on an idle machine there should be none; with a loaded machine timeouts can appear, and the list says which calls failed and how.");
        return md.ToString();
    }

    private static string Mib(double bytes) => string.Create(Invariant, $"{bytes / (1024 * 1024):0.0} MiB");

    private static string Minutes(TimeSpan span) =>
        span.TotalSeconds < 120 ? string.Create(Invariant, $"{span.TotalSeconds:0.#} s") : string.Create(Invariant, $"{span.TotalMinutes:0.#} min");
}
