using System.Globalization;
using System.Text;
using Coordination.Benchmarks;

namespace Coordination.Benchmarks.Noisy;

/// <summary>Collects the phases and renders docs/benchmarks-noisy.md.</summary>
internal sealed class NoisyReport(NoisySettings settings)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly List<(PhaseResult Result, string Load)> _results = [];
    private readonly List<Settled> _settled = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly string _loadAtStart = MachineInfo.LoadAverage();
    private DateTimeOffset _finished;
    private string _loadAtEnd = "unknown";

    public string ServerVersion { get; set; } = "unknown";

    public string RedisServer { get; set; } = "unknown";

    public void Add(PhaseResult result) => _results.Add((result, MachineInfo.LoadAverage()));

    public void AddSettled(Settled settled) => _settled.Add(settled);

    public void Finish()
    {
        _finished = DateTimeOffset.UtcNow;
        _loadAtEnd = MachineInfo.LoadAverage();
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Noisy-neighbour benchmark");
        md.AppendLine();
        md.AppendLine("Written by `bench/Coordination.Benchmarks.Noisy` (issue 12, \"One tenant cannot hurt another\"). Tenant A attacks the");
        md.AppendLine("HTTP API at full speed while tenant B sends a fixed-rate mix; for each attack B runs alone first, then under the");
        md.AppendLine("attack, both in the same run against the same servers. Target: B's p99 under attack at most 2x its p99 alone, and");
        md.AppendLine("zero errors for B. Absolute numbers drift with the load of this shared two-core machine: read the ratio of each pair.");
        md.AppendLine();
        if (settings.Note is { } note)
        {
            md.AppendLine(Invariant, $"**{note}**");
            md.AppendLine();
        }

        md.AppendLine(Invariant, $"- Command: `{Command()}`");
        md.AppendLine(Invariant, $"- Date: {_started:yyyy-MM-dd HH:mm} UTC; the run took {(_finished - _started).TotalSeconds:0} s");
        md.AppendLine(Invariant, $"- Machine: {MachineInfo.Describe()}");
        md.AppendLine(Invariant, $"- Load average (1/5/15 min): start {_loadAtStart}; end {_loadAtEnd}; after each attack in the table below. The benchmark alone keeps both cores busy during an attack (API, both tenants' clients, redis-server and PostgreSQL share them); a 1-minute load well above 2 means other work competed too.");
        md.AppendLine(Invariant, $"- Server: Coordination.Api {ServerVersion}, hosted in the benchmark's process by `WebApplicationFactory<Program>` on Kestrel on a loopback port (not TestServer: every request crosses a real socket and Kestrel's connection handling, as in production); Production environment, default options except the API keys (A and B are `member`s of tenants `tenant-a` and `tenant-b`), `Coordination:KeyPrefix` and the log level (Critical, so a flood's warnings and the circuit's errors do not fill the console; the circuit's state is in the tables).");
        md.AppendLine(Invariant, $"- Redis: {RedisServer} on a free loopback port, started by the benchmark, no persistence, no memory limit");
        md.AppendLine(Invariant, $"- PostgreSQL fallback: {(settings.Postgres ? "PostgreSQL 15 started by the benchmark (fsync off), `ConnectionStrings:coordinationdb` set, so every key/value write is queued for the mirror" : "not configured (`--no-postgres`): the mirror attack only writes to Redis")}");
        md.AppendLine(Invariant, $"- Tenant B: {settings.Rate} operations/s, open loop ({VictimTenant.Mix}); latency from the moment the schedule meant to send (a stall counts against every operation it delays: no coordinated omission), 10 s timeout; an error is any other status or an exception.");
        md.AppendLine(Invariant, $"- Tenant A: {settings.Concurrency} requests in flight per attack ({settings.LockWaiters} in the lock waiter flood), each loop sending as soon as it is answered, from 127.0.0.2 (B from 127.0.0.1: two clients on two hosts; the authentication throttle counts failures per address). A's own statuses are counted, never its errors.");
        md.AppendLine(Invariant, $"- Phases: after a {NoisyBenchmark.WarmUp.TotalSeconds:0.#} s warm-up of B, for each attack: B alone {settings.Duration.TotalSeconds:0.#} s, then A starts, {NoisyBenchmark.AttackRampUp.TotalSeconds:0.#} s later B runs {settings.Duration.TotalSeconds:0.#} s under the attack, A stops; {settings.Settle.TotalSeconds:0.#} s unmeasured pause, longer until the API reports a closed circuit and an empty mirror backlog again (at most {NoisyBenchmark.SettleLimit.TotalSeconds:0} s more), before the next attack's baseline.");
        md.AppendLine();

        md.AppendLine("## Tenant B alone and under each attack");
        md.AppendLine();
        md.AppendLine("| Attack | B alone p50 / p99 / max ms | B under attack p50 / p99 / max ms | p99 ratio | B errors alone | B errors under attack | A requests sent/s | A's answers | Target met |");
        md.AppendLine("|---|---:|---:|---:|---:|---|---:|---|---|");
        foreach (var (r, _) in _results)
        {
            md.AppendLine(Invariant, $"| {r.Attack.Title} | {Latency(r.Alone)} | {Latency(r.UnderAttack)} | {r.P99Ratio:0.00}x | {r.Alone.ErrorCount:N0} | {Errors(r.UnderAttack)} | {r.AttackerRequestsPerSecond:N0} | {r.AttackerOutcomes.Describe()}{(r.AttackerUnanswered > 0 ? string.Create(Invariant, $"; unanswered at stop: {r.AttackerUnanswered:N0}") : string.Empty)}{(r.AttackFailure is null ? string.Empty : "; attack failed: " + r.AttackFailure)} | {(r.MeetsTarget ? "yes" : "**no**")} |");
        }

        md.AppendLine();
        md.AppendLine("## Tenant B's p99 by operation");
        md.AppendLine();
        md.AppendLine("Milliseconds, alone → under attack (\"lock\" is an acquisition and its release).");
        md.AppendLine();
        md.AppendLine("| Attack | " + string.Join(" | ", VictimTenant.Operations) + " |");
        md.AppendLine("|---|" + string.Concat(VictimTenant.Operations.Select(_ => "---:|")));
        foreach (var (r, _) in _results)
        {
            md.AppendLine(Invariant, $"| {r.Attack.Title} | {string.Join(" | ", VictimTenant.Operations.Select(o => string.Create(Invariant, $"{r.Alone.Percentile(o, 0.99):0.0} → {r.UnderAttack.Percentile(o, 0.99):0.0}")))} |");
        }

        md.AppendLine();
        md.AppendLine("## Around each attack");
        md.AppendLine();
        md.AppendLine("The process's working set (API and both clients) and the API's own status (`GET /v1/status`, admin key) just before A started and at the end of B's phase under attack; how long after A stopped the API was healthy again (closed circuit, empty mirror backlog); the load average after the pair.");
        md.AppendLine();
        md.AppendLine("| Attack | Working set before → after MiB | Mirror backlog before → after | Mirror writes dropped (total) | Circuit after | Healthy again after | Load after |");
        md.AppendLine("|---|---:|---:|---:|---|---:|---|");
        for (var i = 0; i < _results.Count; i++)
        {
            var (r, load) = _results[i];
            var settled = i < _settled.Count ? _settled[i] : null;
            var healthyAgain = settled is null ? "n/a"
                : settled.Healthy ? string.Create(Invariant, $"{settings.Settle.TotalSeconds + settled.Waited.TotalSeconds:0.#} s")
                : string.Create(Invariant, $"not within {settings.Settle.TotalSeconds + settled.Waited.TotalSeconds:0} s ({settled.Snapshot.Circuit}, backlog {Backlog(settled.Snapshot)})");
            md.AppendLine(Invariant, $"| {r.Attack.Title} | {r.Before.WorkingSetBytes / 1048576.0:N0} → {r.After.WorkingSetBytes / 1048576.0:N0} | {Backlog(r.Before)} → {Backlog(r.After)} | {(r.After.MirrorDroppedWrites is { } dropped ? dropped.ToString("N0", Invariant) : "n/a")} | {r.After.Circuit} | {healthyAgain} | {load} |");
        }

        md.AppendLine();
        md.AppendLine("## How to read it");
        md.AppendLine();
        md.AppendLine("- The control row is a tenant that is merely busy: full-speed reads of one key, nothing hostile. Everything in this");
        md.AppendLine("  run shares two cores (the API, both tenants' clients, redis-server, PostgreSQL, and whatever else runs on the");
        md.AppendLine("  machine), so any full-speed tenant costs B some latency; an attack is worse than being busy by how far its ratio");
        md.AppendLine("  exceeds the control's. Per-tenant caps and quotas can make A's requests cheap (a quick 400 or 429), not free.");
        md.AppendLine("- B's latency is measured on the client, from the intended send time, so it includes the client's own queueing in");
        md.AppendLine("  this process. A's client runs in the same process too; its cost is part of what B competes with, as a neighbour's");
        md.AppendLine("  traffic on a shared host would be, but a separate machine for A would lower both columns.");
        md.AppendLine("- Errors under \"B errors alone\" come from the previous attack's after-effects when the pause did not absorb them;");
        md.AppendLine("  the target is judged on the phase under attack (p99 ratio at most 2x, no error, every scheduled operation sent).");
        md.AppendLine("- A 503 is the API's answer when a Redis call failed (`coordination-unavailable`): timed out, or refused while the");
        md.AppendLine("  circuit breaker that such timeouts open is open, for every tenant alike.");
        md.AppendLine("- The mirror columns are the API's totals over all tenants: B's key/value writes wait in the same PostgreSQL mirror");
        md.AppendLine("  queue as A's, so dropped writes may be B's even when B's HTTP answers were all 204.");
        md.AppendLine();
        md.AppendLine("## What tenant A sends");
        md.AppendLine();
        foreach (var attack in Attack.All.Where(a => settings.Attacks.Contains(a.Id)))
        {
            md.AppendLine(Invariant, $"- **{attack.Title}** (`{attack.Id}`): {attack.What}.");
        }

        md.AppendLine();
        md.AppendLine("Names and keys are fresh per request unless said otherwise (a counter in the name). The attacks follow today's");
        md.AppendLine("HTTP contract (docs/api-v1): where a cap or quota answers 400 or 429 instead, A goes on sending, and its statuses show it.");
        md.AppendLine("B's operations go to B's own 256 keys, cache entries and lock names, written before the first phase (1 h TTL).");
        return md.ToString();
    }

    private static string Latency(VictimResult result) =>
        string.Create(Invariant, $"{result.Percentile(0.5):0.0} / {result.Percentile(0.99):0.0} / {result.Max:0.0}");

    private static string Errors(VictimResult result)
    {
        var missing = result.Scheduled - result.Completed;
        var errors = result.ErrorCount == 0 ? "0" : string.Create(Invariant, $"**{result.ErrorCount:N0}** ({result.Errors.Describe()})");
        return missing == 0 ? errors : string.Create(Invariant, $"{errors}; {missing:N0} not sent");
    }

    private static string Backlog(ServerSnapshot snapshot) => snapshot.MirrorBacklog?.ToString("N0", Invariant) ?? "n/a";

    private string Command()
    {
        var arguments = settings.Arguments.Count == 0 ? string.Empty : " -- " + string.Join(' ', settings.Arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        return $"dotnet run -c Release --project bench/Coordination.Benchmarks.Noisy{arguments}";
    }
}
