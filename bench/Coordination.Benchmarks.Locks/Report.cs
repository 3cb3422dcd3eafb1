using System.Globalization;
using System.Text;

namespace Coordination.Benchmarks.Locks;

/// <summary>Which rows of the results are whose, for the comparisons the report draws.</summary>
/// <param name="Peers">The peers as the targets name them (their waiting settings as stated in the report).</param>
/// <param name="TunedPeer">A peer with faster polling than its default, shown for comparison.</param>
internal sealed record Roles(string Raw, string Ours, string OursFair, string DistributedLock, IReadOnlyList<string> Peers, string TunedPeer);

/// <summary>Collects the results and renders docs/benchmarks-locks.md.</summary>
internal sealed class Report(LockBenchSettings settings, string endpoint, bool ownServer, string server, Roles roles)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly List<string> _loads = [$"start {MachineInfo.LoadAverage()}"];
    private IReadOnlyList<ILockClient> _uncontendedClients = [];
    private IReadOnlyList<ILockClient> _contendedVariants = [];
    private List<UncontendedRow> _uncontended = [];
    private List<ContendedResult> _contended = [];
    private TimeSpan _runTime;

    public void SetUncontended(IReadOnlyList<ILockClient> clients, List<UncontendedRow> rows)
    {
        _uncontendedClients = clients;
        _uncontended = rows;
        _loads.Add($"after the uncontended runs {MachineInfo.LoadAverage()}");
    }

    public void SetContended(IReadOnlyList<ILockClient> variants, List<ContendedResult> results)
    {
        _contendedVariants = variants;
        _contended = results;
        _loads.Add($"at the end {MachineInfo.LoadAverage()}");
        _runTime = DateTimeOffset.UtcNow - _started;
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Lock benchmarks");
        md.AppendLine();
        md.AppendLine("Written by `bench/Coordination.Benchmarks.Locks`; the numbers below are from one run of the command shown, every");
        md.AppendLine("client against the same redis-server in the same run. Absolute numbers drift between runs and with the load of this");
        md.AppendLine("shared two-core machine (other engineers run tests on it): read the ratios within one table.");
        md.AppendLine();
        md.AppendLine(Invariant, $"- Command: `{Command()}`");
        md.AppendLine(Invariant, $"- Date: {_started:yyyy-MM-dd HH:mm} UTC; the run took {_runTime.TotalSeconds:0} s");
        md.AppendLine(Invariant, $"- Machine: {MachineInfo.Describe()}");
        md.AppendLine(Invariant, $"- Load average (1/5/15 min): {string.Join("; ", _loads)}. The benchmark itself keeps about two cores busy (client and redis-server); a 1-minute load well above 2 means other work competed with it.");
        md.AppendLine(Invariant, $"- Redis: {server} on {(ownServer ? "a free loopback port, started by the benchmark, no persistence" : endpoint)}");
        md.AppendLine(Invariant, $"- Peers: RedLock.net {Version(typeof(RedLockNet.SERedis.RedLockFactory))}, DistributedLock.Redis {Version(typeof(Medallion.Threading.Redis.RedisDistributedLock))}, StackExchange.Redis {Version(typeof(StackExchange.Redis.ConnectionMultiplexer))} (one multiplexer shared by the peers; ours uses its own pool from `AddCoordination()`, tracing on as by default, no exporter).");
        md.AppendLine(Invariant, $"- Lock time to live {settings.TimeToLive.TotalSeconds:0} s for every client; wait timeout {settings.WaitTimeout.TotalSeconds:0} s for every waiting client (never reached in these runs unless the table says so).");
        md.AppendLine();
        md.AppendLine("What each client does:");
        md.AppendLine();
        foreach (var client in _uncontendedClients.Concat(_contendedVariants).DistinctBy(c => c.Name))
        {
            md.AppendLine(Invariant, $"- **{client.Name}**: {client.Description}");
        }

        md.AppendLine();
        AppendUncontended(md);
        AppendContended(md);
        AppendTargets(md);
        AppendInterpretation(md);
        AppendHistory(md);
        return md.ToString();
    }

    /// <summary>The hand-written history of earlier runs and of what was tried (History.md, embedded).</summary>
    private static void AppendHistory(StringBuilder md)
    {
        using var stream = typeof(Report).Assembly.GetManifestResourceStream("Coordination.Benchmarks.Locks.History.md")
            ?? throw new InvalidOperationException("History.md is not embedded.");
        using var reader = new StreamReader(stream);
        md.Append(reader.ReadToEnd());
    }

    private void AppendUncontended(StringBuilder md)
    {
        md.AppendLine("## 1. Uncontended acquire + release");
        md.AppendLine();
        md.AppendLine(Invariant, $"Each caller takes and releases its own lock name back to back (nothing ever waits). {settings.Duration.TotalSeconds:0.#} s measured per client and cell, in two halves in the order ABCD DCBA (DCBA ABCD in the next cell), after a {settings.Warmup.TotalSeconds:0.#} s warm-up of each. A pair is one acquisition and its release; \"acquire\" is the acquisition alone. Redis commands (those run inside Lua scripts included) and Redis CPU are the server's own counters (`INFO`) over the cell, divided by the pairs. Rows marked diagnostic explain where ours spends its time; the targets use the others.");
        md.AppendLine();
        md.AppendLine(Invariant, $"| Client | Callers | Pairs/s | Pair p50 µs | Pair p99 µs | Acquire p50 µs | Redis commands/pair | Redis CPU µs/pair | Pairs/s vs {roles.DistributedLock} | p50 vs {roles.DistributedLock} |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in _uncontended)
        {
            var baseline = Uncontended(roles.DistributedLock, row.Callers);
            md.AppendLine(Invariant, $"| {row.Client} | {row.Callers} | {row.PairsPerSecond:N0} | {row.Pair.Percentile(0.5):N0} | {row.Pair.Percentile(0.99):N0} | {row.Acquire.Percentile(0.5):N0} | {row.CommandsPerPair:0.0} | {row.ServerCpuPerPair:0.0} | {row.PairsPerSecond / baseline.PairsPerSecond:0.00}x | {row.Pair.Percentile(0.5) / baseline.Pair.Percentile(0.5):0.00}x |");
        }

        md.AppendLine();
        md.AppendLine(Invariant, $"Failed calls: {_uncontended.Sum(r => r.Errors)}; refused acquisitions (should be none without contention): {_uncontended.Sum(r => r.Refused)}.");
        md.AppendLine();
    }

    private void AppendContended(StringBuilder md)
    {
        md.AppendLine(Invariant, $"## 2. Contended: {settings.Waiters} waiters on one name");
        md.AppendLine();
        md.AppendLine(Invariant, $"{settings.Waiters} waiters in this process loop on ONE lock name: acquire (waiting up to {settings.WaitTimeout.TotalSeconds:0} s), {settings.Hold.TotalMicroseconds:0} µs of CPU-bound work while holding it, release, ask again at once. {settings.ContendedDuration.TotalSeconds:0.#} s measured per variant in two halves (all variants forward, then in reverse), each variant warmed up {settings.Warmup.TotalSeconds:0.#} s first. A hand-off is an acquisition by a different waiter than the previous one (the lock moved on instead of going back to the waiter that just released it). The wait is the whole acquire call. Waits still running when a half ends are cancelled and counted as unfinished; the longest wait column includes them.");
        md.AppendLine();
        md.AppendLine("| Variant | Acquisitions/s | Hand-offs/s | Hand-off share | Wait p50 ms | Wait p99 ms | Longest wait ms | Longest gap between acquisitions ms | Unfinished waits | Acquisitions per waiter (min–max per half) | Redis commands/acquisition | Redis CPU |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in _contended)
        {
            md.AppendLine(Invariant, $"| {r.Variant} | {r.AcquisitionsPerSecond:N0} | {r.HandOffsPerSecond:N0} | {(double)r.HandOffs / r.Acquisitions:P0} | {Ms(r.Waits.Percentile(0.5))} | {Ms(r.Waits.Percentile(0.99))} | {Ms(r.LongestWaitMicroseconds)} | {Ms(r.LongestGapMicroseconds)} | {r.Unfinished} | {r.MinPerWaiter}–{r.MaxPerWaiter} | {r.CommandsPerAcquisition:0.0} | {r.ServerCpuShare:P0} |");
        }

        md.AppendLine();
        md.AppendLine("Redis CPU is the server's CPU time over the variant's measured time (100 % = one core); commands include those run inside Lua scripts. The longest gap is the longest time between two consecutive acquisitions (the lock free, or its holder slow to get going).");

        md.AppendLine();
        md.AppendLine("### Fairness (waits that began after the first 250 ms of a half)");
        md.AppendLine();
        md.AppendLine(Invariant, $"With strict FIFO a waiter lets through at most the {settings.Waiters - 1} others queued ahead of it. \"Others during one wait\" counts the acquisitions that happened while one wait ran; \"overtaken\" counts waits during which a waiter whose own wait began later got the lock first (client-side start times, so arrivals at Redis within a few hundred µs of each other may be miscounted). The last column divides the longest wait by the time {settings.Waiters - 1} acquisitions take at the variant's measured rate: about 1 or below is what a queue position can need.");
        md.AppendLine();
        md.AppendLine(Invariant, $"| Variant | Waits analysed | Most others during one wait (FIFO: ≤ {settings.Waiters - 1}) | Overtaken waits | Most overtakes of one wait | Longest wait ÷ {settings.Waiters - 1} mean intervals |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var r in _contended)
        {
            md.AppendLine(Invariant, $"| {r.Variant} | {r.Analysed:N0} | {r.MaxOthersDuringWait:N0} | {r.Overtaken:N0} ({(double)r.Overtaken / Math.Max(1, r.Analysed):P1}) | {r.MaxOvertakes:N0} | {r.LongestWaitOverQueueBound:0.0} |");
        }

        md.AppendLine();
        md.AppendLine("### Safety checks in the same runs");
        md.AppendLine();
        md.AppendLine(Invariant, $"The last column: while one caller holds a lock, {ContendedScenario.CancelledWaiters} waiters ask for it and are cancelled at once (the cancellation meets their first attempt in flight, as when a request is aborted); then the holder releases and a newcomer asks with the variant's own options. It should get the free lock at once.");
        md.AppendLine();
        md.AppendLine("| Variant | Overlapping holders seen | Fencing tokens not increasing | Wait timeouts | Errors | Newcomer's wait for the free lock after cancelled waiters, ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var r in _contended)
        {
            md.AppendLine(Invariant, $"| {r.Variant} | {r.Overlaps} | {(r.HasFencingTokens ? r.FencingRegressions.ToString(Invariant) : "n/a")} | {r.Timeouts} | {r.Errors} | {(r.AfterCancelledWaiters is { } wait ? Ms(wait.TotalMicroseconds) : "timed out")} |");
        }

        md.AppendLine();
    }

    private void AppendTargets(StringBuilder md)
    {
        md.AppendLine("## Targets");
        md.AppendLine();
        md.AppendLine("| Target | Measured | Met |");
        md.AppendLine("|---|---|---|");
        foreach (var callers in settings.Callers)
        {
            var ours = Uncontended(roles.Ours, callers);
            var peer = Uncontended(roles.DistributedLock, callers);
            var rate = ours.PairsPerSecond / peer.PairsPerSecond;
            md.AppendLine(Invariant, $"| Uncontended, {callers} caller(s): pairs/s ≥ {roles.DistributedLock} | {ours.PairsPerSecond:N0} vs {peer.PairsPerSecond:N0} ({rate:0.00}x) | {YesNo(rate >= 1)} |");
            md.AppendLine(Invariant, $"| Uncontended, {callers} caller(s): pair p50 ≤ {roles.DistributedLock} | {ours.Pair.Percentile(0.5):N0} µs vs {peer.Pair.Percentile(0.5):N0} µs | {YesNo(ours.Pair.Percentile(0.5) <= peer.Pair.Percentile(0.5))} |");
        }

        var best = BestPeer();
        foreach (var name in new[] { roles.Ours, roles.OursFair })
        {
            var r = Contended(name);
            var ratio = r.HandOffsPerSecond / best.HandOffsPerSecond;
            md.AppendLine(Invariant, $"| Contended: {name} hand-offs/s ≥ 3x the better peer ({best.Variant}) | {r.HandOffsPerSecond:N0} vs {best.HandOffsPerSecond:N0} ({ratio:0.00}x) | {YesNo(ratio >= 3)} |");
        }

        if (_contended.Any(r => r.Variant == roles.TunedPeer))
        {
            var tuned = Contended(roles.TunedPeer);
            var oursBest = Math.Max(Contended(roles.Ours).HandOffsPerSecond, Contended(roles.OursFair).HandOffsPerSecond);
            md.AppendLine(Invariant, $"| (For comparison, not a target) ours' better hand-offs/s against {roles.TunedPeer} | {oursBest:N0} vs {tuned.HandOffsPerSecond:N0} ({oursBest / tuned.HandOffsPerSecond:0.00}x) | – |");
        }

        var fair = Contended(roles.OursFair);
        md.AppendLine(Invariant, $"| Fair, order: no waiter lets more acquisitions pass than the {settings.Waiters - 1} waiters that can be ahead of it | most during one wait: {fair.MaxOthersDuringWait}; overtaken waits: {fair.Overtaken} of {fair.Analysed:N0} (client-side timestamps) | {YesNo(fair.MaxOthersDuringWait <= settings.Waiters - 1)} |");
        md.AppendLine(Invariant, $"| (Not pass/fail) Fair, time: longest wait against {settings.Waiters - 1} acquisitions at the mean rate | {Ms(fair.LongestWaitMicroseconds)} ms = {fair.LongestWaitOverQueueBound:0.0}x; longest gap between two acquisitions {Ms(fair.LongestGapMicroseconds)} ms | – |");
        md.AppendLine();
    }

    private void AppendInterpretation(StringBuilder md)
    {
        md.AppendLine("## Interpretation");
        md.AppendLine();
        var scripts = _uncontendedClients.OfType<LuaScriptsLockClient>().FirstOrDefault()?.Name;
        var untraced = _uncontendedClients.Select(c => c.Name).FirstOrDefault(n => n.Contains("tracing off", StringComparison.Ordinal));
        foreach (var callers in settings.Callers)
        {
            var ours = Uncontended(roles.Ours, callers);
            var peer = Uncontended(roles.DistributedLock, callers);
            var raw = Uncontended(roles.Raw, callers);
            md.AppendLine(Invariant, $"- Uncontended, {callers} caller(s): ours does {ours.PairsPerSecond / peer.PairsPerSecond:0.00}x the pairs/s of {roles.DistributedLock} with a median pair {ours.Pair.Percentile(0.5) - peer.Pair.Percentile(0.5):+#,0;-#,0;0} µs from its median ({ours.PairsPerSecond / raw.PairsPerSecond:P0} of {raw.Client}'s rate). Redis spends {ours.ServerCpuPerPair / peer.ServerCpuPerPair:0.0}x the CPU per pair on ours ({ours.ServerCpuPerPair:0} µs, {ours.CommandsPerPair:0} commands counting those inside the two scripts, against {peer.ServerCpuPerPair:0} µs and {peer.CommandsPerPair:0}).");
            if (scripts is not null)
            {
                var alone = Uncontended(scripts, callers);
                md.AppendLine(Invariant, $"  Split: our two scripts alone, through a plain multiplexer, reach {alone.PairsPerSecond / peer.PairsPerSecond:0.00}x {roles.DistributedLock}'s rate (the Redis-side cost of the richer scripts); the full client reaches {ours.PairsPerSecond / alone.PairsPerSecond:0.00}x the rate of its own scripts (the client-side cost: flow/owner bookkeeping, resilience pipeline, metrics, spans, the hold object and its validity timer){(untraced is null ? "" : string.Create(Invariant, $"; with tracing off it does {Uncontended(untraced, callers).PairsPerSecond / ours.PairsPerSecond:0.00}x the traced rate"))}.");
            }
        }

        var best = BestPeer();
        var nonFair = Contended(roles.Ours);
        var fair = Contended(roles.OursFair);
        md.AppendLine(Invariant, $"- Contended, ours without fairness: {nonFair.HandOffsPerSecond:N0} hand-offs/s, {nonFair.HandOffsPerSecond / best.HandOffsPerSecond:0.00}x the better peer ({best.Variant}, {best.HandOffsPerSecond:N0}/s); {nonFair.AcquisitionsPerSecond:N0} acquisitions/s, {(double)nonFair.HandOffs / nonFair.Acquisitions:P0} of them by another waiter. Median wait {Ms(nonFair.Waits.Percentile(0.5))} ms against {Ms(best.Waits.Percentile(0.5))} ms; the median is small for every unfair variant because most acquisitions are the releasing waiter asking again and getting the lock at once.");
        if ((double)nonFair.HandOffs / nonFair.Acquisitions < 0.5)
        {
            md.AppendLine("  Most acquisitions went back to the waiter that had just released: it asks again at once and its request reaches Redis before the woken waiter's, which first needs the release message. The woken waiter is refused and sleeps again.");
        }

        md.AppendLine(Invariant, $"- Contended, ours with `Fair = true`: {fair.HandOffsPerSecond:N0} hand-offs/s ({fair.HandOffsPerSecond / best.HandOffsPerSecond:0.00}x the better peer), {(double)fair.HandOffs / fair.Acquisitions:P0} of acquisitions by another waiter, every waiter served {fair.MinPerWaiter}–{fair.MaxPerWaiter} times per half; longest wait {Ms(fair.LongestWaitMicroseconds)} ms = {fair.LongestWaitOverQueueBound:0.0}x what {settings.Waiters - 1} acquisitions take at its own rate. Each hand-off is a chain: release script, release message, the head waiter woken in process, its acquire script.");

        // A hand-off needs at least the hold, a release and an acquisition one after the other.
        var pair = Uncontended(roles.Ours, settings.Callers.Min()).Pair.Percentile(0.5);
        var ceiling = 1_000_000 / (settings.Hold.TotalMicroseconds + pair);
        md.AppendLine(Invariant, $"- Ceiling: with {settings.Hold.TotalMicroseconds:0} µs of work and ours' median uncontended release+acquire of {pair:N0} µs, one lock can change hands at most about {ceiling:N0} times a second on this machine; 3x the better peer is {3 * best.HandOffsPerSecond:N0}/s{(3 * best.HandOffsPerSecond > ceiling ? ", above that ceiling: the target cannot be met by a release-then-acquire hand-off here" : string.Empty)}.");

        var polling = _contended.Where(r => roles.Peers.Contains(r.Variant) || r.Variant == roles.TunedPeer).ToArray();
        md.AppendLine(Invariant, $"- Load on Redis: the peers poll ({string.Join(", ", polling.Select(p => string.Create(Invariant, $"{p.Variant} {p.CommandsPerAcquisition:0} commands and {p.ServerCpuShare:P0} of a core")))}); ours {nonFair.CommandsPerAcquisition:0} commands per acquisition and {nonFair.ServerCpuShare:P0} of a core without fairness, {fair.CommandsPerAcquisition:0} and {fair.ServerCpuShare:P0} with: no polling, but richer scripts, the wait-for graph written by refused waiters (deadlock detection) and the queue bookkeeping.");
        if (_contended.FirstOrDefault(r => r.Variant.Contains("DeadlockDetection", StringComparison.Ordinal)) is { } noDetection)
        {
            md.AppendLine(Invariant, $"  Without deadlock detection (diagnostic): {noDetection.AcquisitionsPerSecond:N0} acquisitions/s ({noDetection.AcquisitionsPerSecond / nonFair.AcquisitionsPerSecond:0.00}x), {noDetection.HandOffsPerSecond:N0} hand-offs/s ({noDetection.HandOffsPerSecond / nonFair.HandOffsPerSecond:0.00}x), {noDetection.CommandsPerAcquisition:0} commands per acquisition.");
        }

        var peerRecovery = _contended.Where(r => roles.Peers.Contains(r.Variant) || r.Variant == roles.TunedPeer).Max(r => r.AfterCancelledWaiters?.TotalMilliseconds ?? 0);
        foreach (var r in new[] { nonFair, fair })
        {
            var waited = r.AfterCancelledWaiters?.TotalMilliseconds ?? double.PositiveInfinity;
            if (waited > 100 && waited > 10 * peerRecovery)
            {
                md.AppendLine(Invariant, $"- **{r.Variant}: a newcomer waited {(double.IsInfinity(waited) ? "the whole wait timeout" : string.Create(Invariant, $"{waited:N0} ms"))} for a free lock right after the previous waiters were cancelled** (the peers: at most {peerRecovery:N0} ms). Waiters cancelled while their first attempt was in flight are left in the lock's FIFO queue in Redis, and fair callers queue behind them until their waiter lease runs out (3 x `RecheckInterval` + the attempt timeout): the lock stays free and unused meanwhile.");
            }
        }

        var overlaps = _contended.Sum(r => r.Overlaps);
        var regressions = _contended.Sum(r => r.FencingRegressions);
        md.AppendLine(Invariant, $"- Safety: {(overlaps == 0 ? "no two waiters were ever in the critical section at once" : $"{overlaps} overlapping holds were seen")}; the fencing tokens of ours {(regressions == 0 ? "increased strictly from one acquisition to the next" : $"went backwards {regressions} time(s)")}.");
        md.AppendLine();
        md.AppendLine("Caveats: all waiters are in one process, so in-process wake-ups (ours) and the peers' client-side sleeps both");
        md.AppendLine("run on the same two cores as redis-server; across processes or hosts the release message and each polling");
        md.AppendLine("request add a network round trip. The peers' waiting depends on their polling settings (stated above): polling");
        md.AppendLine("faster raises their hand-off rate and the load they put on Redis.");
    }

    private UncontendedRow Uncontended(string client, int callers) => _uncontended.First(r => r.Client == client && r.Callers == callers);

    private ContendedResult Contended(string variant) => _contended.First(r => r.Variant == variant);

    private ContendedResult BestPeer() => _contended.Where(r => roles.Peers.Contains(r.Variant)).MaxBy(r => r.HandOffsPerSecond)!;

    private static string YesNo(bool met) => met ? "yes" : "**no**";

    private static string Ms(double microseconds) => double.IsNaN(microseconds) ? "–" : (microseconds / 1000).ToString(microseconds < 10_000 ? "0.00" : "N0", Invariant);

    private static string Version(Type type) =>
        type.Assembly.GetCustomAttributes(typeof(System.Reflection.AssemblyInformationalVersionAttribute), false)
            .OfType<System.Reflection.AssemblyInformationalVersionAttribute>().FirstOrDefault()?.InformationalVersion.Split('+')[0]
        ?? type.Assembly.GetName().Version?.ToString() ?? "?";

    private string Command() =>
        "dotnet run -c Release --project bench/Coordination.Benchmarks.Locks" + (settings.Arguments.Count > 0 ? " -- " + string.Join(' ', settings.Arguments) : string.Empty);
}
