using System.Globalization;
using System.Text;
using Coordination.Benchmarks.Locks;

namespace Coordination.Benchmarks.RateLimiting;

internal sealed record ThroughputRow(string Algorithm, string Client, int Callers, LoadResult Result, RedisStats Server, long Allowed);

internal sealed record SaturationRow(string Algorithm, string Client, int Limit, long Admitted, long Attempts, long Errors);

/// <summary>Collects the results and renders docs/benchmarks-ratelimiting.md.</summary>
internal sealed class RateLimitReport(RateLimitBenchSettings settings, string endpoint, bool ownServer, string server)
{
    private const string Peer = "RedisRateLimiting";
    private const string Ours = "ours";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly List<ThroughputRow> _throughput = [];
    private readonly List<SaturationRow> _saturation = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly string _loadAtStart = MachineInfo.LoadAverage();

    public void Add(ThroughputRow row) => _throughput.Add(row);

    public void Add(SaturationRow row) => _saturation.Add(row);

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Rate-limiting benchmarks");
        md.AppendLine();
        md.AppendLine("Written by `bench/Coordination.Benchmarks.RateLimiting`; the numbers below are from one run of the command shown. Absolute");
        md.AppendLine("numbers drift between runs and machines: read the ratios, which compare the clients within the same cell of the same run.");
        md.AppendLine();
        md.AppendLine(Invariant, $"- Command: `dotnet run -c Release --project bench/Coordination.Benchmarks.RateLimiting{(settings.Arguments.Count > 0 ? " -- " + string.Join(' ', settings.Arguments) : string.Empty)}`");
        md.AppendLine(Invariant, $"- Date: {_started:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine(Invariant, $"- Machine: {MachineInfo.Describe()}");
        md.AppendLine(Invariant, $"- Load average (1/5/15 min) at start: {_loadAtStart}; at end: {MachineInfo.LoadAverage()} (the machine is shared; a load near or above the core count inflates tails and the spread between runs)");
        md.AppendLine(Invariant, $"- Redis: {server} on {(ownServer ? "a free loopback port, started by the benchmark, no persistence" : endpoint)}; benchmark and server share the machine's cores");
        md.AppendLine(Invariant, $"- Throughput cells: {settings.Duration.TotalSeconds:0.#} s measured per client and cell, one round per client in rotating order, each warmed up {settings.Warmup.TotalSeconds:0.#} s first; every call asks one permit of one of {settings.Keys:N0} keys (each caller walks them in its own order), each key limited to {settings.Limit:N0} per second, so nearly every call is admitted and each decision costs what it costs when it is.");
        md.AppendLine(Invariant, $"- Saturation cells: one fresh key limited to 100 per second, asked for one permit at a time by 64 callers for {settings.Saturation.TotalSeconds:0.#} s.");
        md.AppendLine("- Clients: RedisRateLimiting 1.2.1 (`RedisRateLimitPartition` limiters through a `PartitionedRateLimiter<string>`, its own multiplexer); ours from `AddCoordination()` with default options (`IRateLimitService.AcquireAsync`), tracing off like the peer. GCRA and the sliding log have no counterpart in RedisRateLimiting: ours alone.");
        md.AppendLine();
        md.AppendLine("## Decisions per second");
        md.AppendLine();
        md.AppendLine("| Algorithm | Callers | Client | decisions/s | p50 µs | p99 µs | vs RedisRateLimiting | admitted | Redis commands/decision | Redis CPU µs/decision | Errors |");
        md.AppendLine("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in _throughput)
        {
            var (p50, p99) = row.Result.Percentiles();
            var peer = Find(row.Algorithm, Peer, row.Callers);
            var decisions = Math.Max(1, row.Result.Operations);
            var versus = peer is null ? "n/a" : (row.Result.OperationsPerSecond / peer.Result.OperationsPerSecond).ToString("P0", Invariant);
            md.AppendLine(Invariant, $"| {row.Algorithm} | {row.Callers} | {row.Client} | {row.Result.OperationsPerSecond:N0} | {p50:N1} | {p99:N1} | {versus} | {(double)row.Allowed / decisions:P1} | {(double)row.Server.Commands / decisions:0.0} | {row.Server.CpuSeconds * 1e6 / decisions:0.0} | {row.Result.Errors} |");
        }

        md.AppendLine();
        md.AppendLine("## One saturated key");
        md.AppendLine();
        var seconds = settings.Saturation.TotalSeconds;
        md.AppendLine(Invariant, $"A limit of 100 per second for {seconds:0.#} s admits between {100 * Math.Floor(seconds):N0} and {100 * (Math.Ceiling(seconds) + 1):N0} with windows aligned to the clock (the run spans {Math.Ceiling(seconds):0} or {Math.Ceiling(seconds) + 1:0} of them), and a token bucket that starts full at most 100 + 100 × {seconds:0.#}.");
        md.AppendLine();
        md.AppendLine("| Algorithm | Client | admitted | asked | admitted per second | Errors |");
        md.AppendLine("|---|---|---:|---:|---:|---:|");
        foreach (var row in _saturation)
        {
            md.AppendLine(Invariant, $"| {row.Algorithm} | {row.Client} | {row.Admitted:N0} | {row.Attempts:N0} | {row.Admitted / seconds:N1} | {row.Errors} |");
        }

        md.AppendLine();
        md.AppendLine("## Against the target (issue 15)");
        md.AppendLine();
        foreach (var row in _throughput.Where(r => r.Client == Ours && Find(r.Algorithm, Peer, r.Callers) is not null))
        {
            var ratio = row.Result.OperationsPerSecond / Find(row.Algorithm, Peer, row.Callers)!.Result.OperationsPerSecond;
            md.AppendLine(Invariant, $"- {row.Algorithm}, {row.Callers} caller(s): ours decides {ratio:P0} of RedisRateLimiting's decisions/s → **{(ratio >= 1 ? "met" : "not met")}** in this run.");
        }

        md.AppendLine();
        return md.ToString();
    }

    private ThroughputRow? Find(string algorithm, string client, int callers) =>
        _throughput.FirstOrDefault(r => r.Algorithm == algorithm && r.Client == client && r.Callers == callers);
}
