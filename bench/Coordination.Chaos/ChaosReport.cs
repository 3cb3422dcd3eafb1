using System.Globalization;
using System.Text;

namespace Coordination.Chaos;

/// <summary>The "Chaos suite" section of docs/reliability.md: the command, the machine and servers, and two tables.</summary>
internal sealed class ChaosReport(ChaosSettings settings)
{
    public const string Heading = "## Chaos suite";
    public const string InsertBefore = "## What can still be lost or repeat";

    public static readonly string[] Invariants =
    [
        FencingChecker.OverlapInvariant,
        FencingChecker.IncreasingInvariant,
        RateLimitChecker.RedisInvariant,
        RateLimitChecker.LocalInvariant,
        SessionWorkload.LostInvariant,
        CacheWorkload.StaleInvariant,
    ];

    private readonly List<ScenarioStats> _scenarios = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly string _loadBefore = Benchmarks.MachineInfo.LoadAverage();
    private string _loadAfter = "unknown";
    private TimeSpan _elapsed;

    public string RedisServer { get; set; } = "unknown";

    public string Postgres { get; set; } = "unknown";

    public long Violations => _scenarios.Sum(s => s.Violations.Values.Sum());

    public long Unexpected => _scenarios.Sum(s => s.UnexpectedErrors.Values.Sum());

    public bool Passed => Violations == 0 && Unexpected == 0 && _scenarios.All(s => s.Recovered);

    public void Add(ScenarioStats stats) => _scenarios.Add(stats);

    public void Finish()
    {
        _elapsed = DateTimeOffset.UtcNow - _started;
        _loadAfter = Benchmarks.MachineInfo.LoadAverage();
    }

    public string ToMarkdown()
    {
        var s = new StringBuilder();
        // The note is printed below the command, not in it.
        var arguments = settings.Arguments.Where((_, i) => settings.Arguments[i] != "--note" && (i == 0 || settings.Arguments[i - 1] != "--note")).ToArray();
        var command = "dotnet run -c Release --project bench/Coordination.Chaos" + (arguments.Length == 0 ? string.Empty : " -- " + string.Join(' ', arguments));
        s.AppendLine(Heading).AppendLine();
        s.AppendLine(Invariant($"`{command}` (one command, {_elapsed.TotalSeconds:0} s in all): a throwaway {RedisServer} and {Postgres} (the fallback store), two library nodes"));
        s.AppendLine("(`AddCoordination`) and two replicas of the real API (hosted in the process on Kestrel), all with the fallback configured; a mixed");
        s.AppendLine(Invariant($"load runs throughout while one fault after another is injected, {settings.ScenarioLength.TotalSeconds:0.#} s per scenario (the fault {settings.ScenarioLength.TotalSeconds * 0.25:0.#} s in, held"));
        s.AppendLine(Invariant($"{settings.FaultHold.TotalSeconds:0.#} s where it lasts), each followed by recovery and the read-back checks before the next."));
        s.AppendLine(Invariant($"Run {_started:yyyy-MM-dd HH:mm} UTC on {Benchmarks.MachineInfo.Describe()}; load average {_loadBefore} before, {_loadAfter} after."));
        if (settings.Note is not null)
        {
            s.AppendLine().AppendLine(settings.Note);
        }

        s.AppendLine();
        s.AppendLine("The load: locks (6 workers over 3 names, both nodes) whose holders enter a checked resource with their fencing token;");
        s.AppendLine(Invariant($"a fixed-window policy ({ChaosConfiguration.PolicyLimit} per {ChaosConfiguration.PolicyPeriod.TotalSeconds:0} s, `Fallback:NodeCount` {ChaosConfiguration.NodeCount}, so a node's local share is {ChaosConfiguration.PolicyLimit / ChaosConfiguration.NodeCount}) asked for one key by 4 workers;"));
        s.AppendLine("session creates and counter updates (4 workers, either node); cache sets and gets of increasing numbers (2 workers, either node);");
        s.AppendLine("key/value puts and gets and rate-limit acquisitions over HTTP (4 workers, round robin over the replicas in rotation).");
        s.AppendLine();
        s.AppendLine("| scenario | fault | calls | errors seen by callers (typed) | outside the contract | recovered after | p99 during the fault |");
        s.AppendLine("|---|---|---:|---|---:|---:|---:|");
        foreach (var stats in _scenarios)
        {
            var errors = stats.ExpectedErrors.IsEmpty
                ? "none"
                : string.Join("; ", stats.ExpectedErrors.OrderByDescending(e => e.Value).Select(e => Invariant($"{Short(e.Key)} {e.Value:N0}")));
            var unexpected = stats.UnexpectedErrors.IsEmpty
                ? "0"
                : Invariant($"**{stats.UnexpectedErrors.Values.Sum():N0}**: ") + string.Join("; ", stats.UnexpectedErrors.Select(e => Invariant($"{e.Key} {e.Value:N0}")));
            var recovery = stats.Fault.Id == "baseline" ? "n/a" : stats.Recovered ? Invariant($"{stats.Recovery!.Value.TotalMilliseconds:N0} ms") : "**not recovered**";
            var p99 = stats.Fault.Id == "baseline" ? stats.P99All() : stats.P99During(RecoveryEnd(stats));
            s.AppendLine(Invariant($"| `{stats.Fault.Id}` | {stats.Fault.Title} | {stats.Calls:N0} | {errors} | {unexpected} | {recovery} | {(p99 is { } v ? Invariant($"{v:N1} ms") : "n/a")} |"));
        }

        s.AppendLine();
        s.AppendLine("\"Unavailable (reason)\" is `CoordinationUnavailableException` with its `Reason`; HTTP 503 with the problem's `reason`.");
        s.AppendLine("\"Recovered after\": from the end of the fault (server back, pause over, new replica started) to the first success");
        s.AppendLine("served by Redis again on every node (a lock acquisition: locks fail closed, nothing else answers them), or to the");
        s.AppendLine("new replica's first answer. \"p99 during the fault\": of every call started between the fault's start and that point");
        s.AppendLine("(the baseline: of all its calls). A timed-out call counts with its full wait.");
        s.AppendLine();
        s.AppendLine("Invariants (violations / checks; every one must be 0):");
        s.AppendLine();
        s.AppendLine("| scenario | " + string.Join(" | ", Invariants) + " |");
        s.AppendLine("|---|" + string.Concat(Invariants.Select(_ => "---:|")));
        foreach (var stats in _scenarios)
        {
            s.Append(Invariant($"| `{stats.Fault.Id}` |"));
            foreach (var invariant in Invariants)
            {
                var violations = stats.Violations.GetValueOrDefault(invariant);
                var checks = stats.Checked.GetValueOrDefault(invariant);
                var most = stats.Maxima.TryGetValue(invariant, out var max) ? Invariant($" (most {max})") : string.Empty;
                s.Append(violations == 0 ? Invariant($" 0 / {checks:N0}{most} |") : Invariant($" **{violations:N0}** / {checks:N0}{most} |"));
            }

            s.AppendLine();
        }

        var fenced = _scenarios.Where(st => st.Checked.GetValueOrDefault(FencingChecker.FencedOverlaps) > 0).ToArray();
        s.AppendLine();
        s.AppendLine(fenced.Length == 0
            ? "No two lock holders overlapped in any scenario (not even fenced ones)."
            : "Lock holders that overlapped, each newcomer with a larger token (fenced, allowed): " + string.Join(", ", fenced.Select(st => Invariant($"`{st.Fault.Id}` {st.Checked[FencingChecker.FencedOverlaps]:N0}"))) + ".");
        s.AppendLine("\"(most n)\": the most permits admitted in one window, by Redis (limit 50) or by one node locally (share 25).");
        s.AppendLine();
        s.AppendLine("What each check means: a lock holder entering while another holder with a token not smaller is inside, or with a");
        s.AppendLine("token not above every token the resource saw (overlaps where the newcomer's token is larger are fenced: the resource");
        s.AppendLine("refuses the older holder); admissions by Redis per aligned window and Redis server life above the limit (a restart");
        s.AppendLine("without persistence starts the window's count afresh), and local admissions per window and node above the share;");
        s.AppendLine("a session whose creation was acknowledged, read back through both nodes after recovery (writers paused; re-read for");
        s.AppendLine("up to 5 s, so changes made in the PostgreSQL copy during the fault have been replayed), missing or holding a counter");
        s.AppendLine("older than its last acknowledged update; a cache key read through both nodes after recovery (writers paused,");
        s.AppendLine("1.5 s = three invalidation-log polls) holding a value older than its last acknowledged set (a miss is allowed).");
        s.AppendLine("A write that failed (timed out) may still have landed: its value is accepted.");

        // The nodes' warnings go into the report where a check failed: what the library said when it happened.
        var notes = _scenarios
            .SelectMany(st => st.Notes.Take(12).Select(n => $"`{st.Fault.Id}`: {n}")
                .Concat(st.Violations.Values.Sum() > 0 ? st.Warnings.Take(8).Select(w => $"`{st.Fault.Id}`, library log: {w}") : []))
            .Take(40)
            .ToArray();
        if (notes.Length > 0)
        {
            s.AppendLine().AppendLine("Notes of the run:").AppendLine();
            foreach (var note in notes)
            {
                s.Append("* ").AppendLine(note);
            }
        }

        s.AppendLine();
        s.AppendLine(Passed
            ? "Result: **passed** (no invariant violated, no exception type outside the contract, every scenario recovered)."
            : Invariant($"Result: **failed** ({Violations:N0} invariant violations, {Unexpected:N0} errors outside the contract, {_scenarios.Count(st => !st.Recovered)} scenarios not recovered)."));
        return s.ToString();
    }

    /// <summary>Replaces the "Chaos suite" section of <paramref name="document"/> (up to the next "## "), or inserts it before <see cref="InsertBefore"/>.</summary>
    public static string ReplaceSection(string document, string section)
    {
        section = section.TrimEnd() + "\n\n";
        var start = document.IndexOf(Heading + "\n", StringComparison.Ordinal);
        if (start >= 0)
        {
            var next = document.IndexOf("\n## ", start + Heading.Length, StringComparison.Ordinal);
            return document[..start] + section + (next < 0 ? string.Empty : document[(next + 1)..]);
        }

        var before = document.IndexOf(InsertBefore, StringComparison.Ordinal);
        return before < 0 ? document.TrimEnd() + "\n\n" + section : document[..before] + section + document[before..];
    }

    public static long RecoveryEnd(ScenarioStats stats) =>
        stats.Recovery is { } recovery ? stats.FaultEnd + (long)(recovery.TotalSeconds * System.Diagnostics.Stopwatch.Frequency) : Math.Max(stats.FaultEnd, stats.FaultStart);

    private static string Short(string key) => key.Replace(nameof(CoordinationUnavailableException), "Unavailable", StringComparison.Ordinal);

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);
}
