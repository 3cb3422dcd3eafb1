using System.Globalization;
using System.Text;
using Coordination.Benchmarks;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>Collects the cells and renders docs/benchmarks-endtoend.md.</summary>
internal sealed class EndToEndReport(EndToEndSettings settings)
{
    /// <summary>The library's targets at moderate load (issue 17).</summary>
    public const double TargetOperationsPerSecond = 10_000;
    public const double TargetP99Microseconds = 1_000;

    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly List<(int Callers, MixResult[] Results, string Load)> _cells = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly string _loadAtStart = MachineInfo.LoadAverage();
    private DateTimeOffset _finished;
    private string _loadAtEnd = "unknown";

    public string ServerVersion { get; set; } = "unknown";

    public string RedisServer { get; set; } = "unknown";

    /// <summary>The clients, in the order of each cell's results: the API, the library, the trivial endpoint.</summary>
    public IReadOnlyList<IMixClient> Clients { get; set; } = [];

    // The index of each client in a cell's results.
    private const int Api = 0;
    private const int Library = 1;
    private const int Trivial = 2;

    public void Add(int callers, MixResult[] results) => _cells.Add((callers, results, MachineInfo.LoadAverage()));

    public void Finish()
    {
        _finished = DateTimeOffset.UtcNow;
        _loadAtEnd = MachineInfo.LoadAverage();
    }

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# End-to-end throughput benchmark");
        md.AppendLine();
        md.AppendLine("Written by `bench/Coordination.Benchmarks.EndToEnd` (issue 17, \"Throughput end to end\"). One mixed workload through");
        md.AppendLine("the HTTP API (two replicas, called in turn), the same mix through the library directly, and a trivial ASP.NET Core");
        md.AppendLine("endpoint as the framework's own ceiling, all in one run against one redis-server, in rotating order within each cell.");
        md.AppendLine("Absolute numbers drift with the load of this shared two-core machine: compare the clients within a cell.");
        md.AppendLine();
        if (settings.Note is { } note)
        {
            md.AppendLine(Invariant, $"**{note}**");
            md.AppendLine();
        }

        md.AppendLine(Invariant, $"- Command: `{Command()}`");
        md.AppendLine(Invariant, $"- Date: {_started:yyyy-MM-dd HH:mm} UTC; the run took {(_finished - _started).TotalSeconds:0} s");
        md.AppendLine(Invariant, $"- Machine: {MachineInfo.Describe()}");
        md.AppendLine(Invariant, $"- Load average (1/5/15 min): start {_loadAtStart}; end {_loadAtEnd}; after each cell in the tables below. Everything shares the two cores: the load generator's callers, both API replicas, the library's host, the trivial endpoint and redis-server; a 1-minute load well above 2 means other work competed too.");
        md.AppendLine(Invariant, $"- Server: Coordination.Api {ServerVersion}, two replicas hosted in the benchmark's process by `WebApplicationFactory<Program>`, each on Kestrel on its own loopback port (not TestServer: every request crosses a real socket), on the same Redis and key prefix; Production environment, default options except the API keys, `Coordination:KeyPrefix`, the log level (Critical) and the API's own per-tenant request rate (policy `api-requests` raised to a token bucket of {ApiReplica.RequestRateLimit:N0}/s, so it never refuses the load; it is still checked in Redis on every request). Server GC, as the API runs.");
        md.AppendLine(Invariant, $"- Library: a host built with `AddCoordination` in the same process, same Redis and key prefix, default options, tenant `{LibraryMixClient.Tenant}` (the API's is `{ApiReplica.Tenant}`, so neither reads the other's data). Tracing: the API replicas' OpenTelemetry (ServiceDefaults: ASP.NET Core, HttpClient, Redis and `Coordination` spans, no exporter) listens process-wide, since activity sources are global, so the library's spans, the trivial endpoint's server spans and the load generator's client spans are recorded too: every client pays the instrumentation a traced deployment pays.");
        md.AppendLine(Invariant, $"- Redis: {RedisServer} on a free loopback port, started by the benchmark, no persistence");
        md.AppendLine(Invariant, $"- Mix: {Mix.Describe}. Before the run each tenant gets its cache entries, its sessions (ten per user) and the policy `{Mix.Policy}`.");
        md.AppendLine(Invariant, $"- Clients: **{Clients[Api].Name}**: {Clients[Api].Description}. **{Clients[Library].Name}**: {Clients[Library].Description}. **{Clients[Trivial].Name}**: {Clients[Trivial].Description}.");
        md.AppendLine(Invariant, $"- Cells: {string.Join(", ", settings.Callers)} concurrent callers, each calling back to back (closed loop); per cell each client is warmed up {settings.Warmup.TotalSeconds:0.#} s, then measured {settings.Duration.TotalSeconds:0.#} s in {Clients.Count} rounds of {settings.Duration.TotalSeconds / Math.Max(1, Clients.Count):0.##} s in rotating order (API, library, trivial; library, trivial, API; trivial, API, library), so a drift of the machine hits all three alike.");
        md.AppendLine("- Measured: operations/s counts operations with the expected outcome (a cache read of an absent key answered 404 or a miss is one); latency per such operation from the call to its complete answer, in microseconds, nearest rank; an error is any other outcome or an exception (10 s HTTP timeout), counted by reason and not in the latencies. Requests/s counts HTTP requests (a lock operation is two). Redis commands/op: the server's `total_commands_processed` over the client's rounds divided by its operations (and errors); Redis counts each command a Lua script runs as well as the script's own call, and the API's include its request-rate check (one token-bucket script per request). Redis CPU %: the server's user + system CPU over the same rounds, as a share of one core.");
        md.AppendLine();

        md.AppendLine("## All operations");
        md.AppendLine();
        md.AppendLine("| Callers | Client | ops/s | HTTP requests/s | p50 µs | p99 µs | p99.9 µs | Errors | Redis commands/op | Redis CPU % | Load after |");
        md.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (var (callers, results, load) in _cells)
        {
            for (var i = 0; i < results.Length; i++)
            {
                var r = results[i];
                var requests = Clients[i].RequestsPer(OperationKind.CacheGet) == 0 ? "n/a" : r.RequestsPerSecond(Clients[i]).ToString("N0", Invariant);
                var commands = r.Operations + r.Errors == 0 ? "n/a" : (r.ServerUse.Commands / (double)(r.Operations + r.Errors)).ToString("0.0", Invariant);
                var cpu = r.Elapsed > TimeSpan.Zero ? (100 * r.ServerUse.CpuSeconds / r.Elapsed.TotalSeconds).ToString("0", Invariant) : "n/a";
                md.AppendLine(Invariant, $"| {callers} | {Clients[i].Name} | {r.OperationsPerSecond:N0} | {requests} | {Us(r.Percentile(0.5))} | {Us(r.Percentile(0.99))} | {Us(r.Percentile(0.999))} | {Errors(r.Errors)} | {commands} | {cpu} | {(i == 0 ? load : string.Empty)} |");
            }
        }

        md.AppendLine();
        md.AppendLine("## The API next to the trivial endpoint");
        md.AppendLine();
        md.AppendLine("The framework's ceiling on this machine: the API's HTTP requests/s as a share of the trivial endpoint's, with the same callers in the same cell, and both p99s.");
        md.AppendLine();
        md.AppendLine("| Callers | API requests/s | Trivial requests/s | API share of trivial | API ops/s | API p99 µs | Trivial p99 µs | Library ops/s |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (callers, results, _) in _cells)
        {
            md.AppendLine(Invariant, $"| {callers} | {results[Api].RequestsPerSecond(Clients[Api]):N0} | {results[Trivial].RequestsPerSecond(Clients[Trivial]):N0} | {Share(results):0} % | {results[Api].OperationsPerSecond:N0} | {Us(results[Api].Percentile(0.99))} | {Us(results[Trivial].Percentile(0.99))} | {results[Library].OperationsPerSecond:N0} |");
        }

        md.AppendLine();
        md.AppendLine("## By operation");
        md.AppendLine();
        md.AppendLine("The API's and the library's operations by kind (the trivial endpoint runs one request for every kind, so it has no breakdown).");
        md.AppendLine();
        md.AppendLine("| Callers | Operation | API ops/s | API p50 / p99 / p99.9 µs | API errors | Library ops/s | Library p50 / p99 / p99.9 µs | Library errors |");
        md.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var (callers, results, _) in _cells)
        {
            foreach (var kind in Mix.Kinds)
            {
                var a = results[Api];
                var l = results[Library];
                md.AppendLine(Invariant, $"| {callers} | {Mix.Name(kind)} | {a.OperationsPerSecondOf(kind):N0} | {Latencies(a, kind)} | {Errors(a.ErrorsOf(kind))} | {l.OperationsPerSecondOf(kind):N0} | {Latencies(l, kind)} | {Errors(l.ErrorsOf(kind))} |");
            }
        }

        var errors = _cells.SelectMany(c => c.Results.Select((r, i) => (c.Callers, Client: Clients[i].Name, r.ErrorsByReason))).Where(e => e.ErrorsByReason.Count > 0).ToArray();
        md.AppendLine();
        md.AppendLine("## Errors");
        md.AppendLine();
        if (errors.Length == 0)
        {
            md.AppendLine("None: every operation had its expected outcome.");
        }
        else
        {
            foreach (var (callers, client, byReason) in errors)
            {
                md.AppendLine(Invariant, $"- {callers} caller(s), {client}: {string.Join(", ", byReason.OrderByDescending(e => e.Value).Select(e => string.Create(Invariant, $"{e.Key} × {e.Value:N0}")))}");
            }
        }

        md.AppendLine();
        md.AppendLine("## Against the target");
        md.AppendLine();
        md.AppendLine(Invariant, $"Issue 17's target on these two-core machines: over {TargetOperationsPerSecond:N0} operations/s through the library with p99 under {TargetP99Microseconds / 1000:0} ms at moderate load, and the API's throughput and latency reported next to a trivial ASP.NET Core endpoint in the same run. Moderate load here is {EndToEndSettings.ModerateCallers} concurrent callers, between 1 (a call's round trip alone) and 64 (the load the issue's failover tests run under).");
        md.AppendLine();
        var moderate = _cells.Where(c => c.Callers == EndToEndSettings.ModerateCallers).Select(c => c.Results).FirstOrDefault();
        if (moderate is null)
        {
            md.AppendLine(Invariant, $"- Not judged: this run had no cell of {EndToEndSettings.ModerateCallers} callers.");
        }
        else
        {
            var lib = moderate[Library];
            var p99 = lib.Percentile(0.99);
            var met = lib.OperationsPerSecond > TargetOperationsPerSecond && p99 < TargetP99Microseconds && lib.Errors == 0;
            md.AppendLine(Invariant, $"- Library at {EndToEndSettings.ModerateCallers} callers: {lib.OperationsPerSecond:N0} operations/s, p99 {Us(p99)} µs, {lib.Errors:N0} errors: target {(met ? "met" : "**not met**")}.");
            md.AppendLine(Invariant, $"- API at {EndToEndSettings.ModerateCallers} callers: {moderate[Api].OperationsPerSecond:N0} operations/s ({moderate[Api].RequestsPerSecond(Clients[Api]):N0} requests/s), p99 {Us(moderate[Api].Percentile(0.99))} µs: {Share(moderate):0} % of the trivial endpoint's {moderate[Trivial].RequestsPerSecond(Clients[Trivial]):N0} requests/s (p99 {Us(moderate[Trivial].Percentile(0.99))} µs) in the same cell.");
        }

        foreach (var (callers, results, _) in _cells.Where(c => c.Callers != EndToEndSettings.ModerateCallers))
        {
            md.AppendLine(Invariant, $"- At {callers} caller(s): library {results[Library].OperationsPerSecond:N0} operations/s, p99 {Us(results[Library].Percentile(0.99))} µs; API {results[Api].OperationsPerSecond:N0} operations/s, p99 {Us(results[Api].Percentile(0.99))} µs, {Share(results):0} % of the trivial endpoint's requests/s.");
        }

        md.AppendLine();
        md.AppendLine("The load generator runs in the same process as the servers it measures, so its own work (HTTP client, timing) takes");
        md.AppendLine("from the same two cores; it does so for the trivial endpoint too, which makes the share a like-for-like comparison;");
        md.AppendLine("the absolute numbers would differ with the callers on another machine.");
        return md.ToString();
    }

    private double Share(MixResult[] results)
    {
        var trivial = results[Trivial].RequestsPerSecond(Clients[Trivial]);
        return trivial > 0 ? 100 * results[Api].RequestsPerSecond(Clients[Api]) / trivial : double.NaN;
    }

    private static string Latencies(MixResult result, OperationKind kind) =>
        $"{Us(result.Percentile(kind, 0.5))} / {Us(result.Percentile(kind, 0.99))} / {Us(result.Percentile(kind, 0.999))}";

    private static string Us(double microseconds) => double.IsNaN(microseconds) ? "n/a" : microseconds.ToString("N0", Invariant);

    private static string Errors(long errors) => errors == 0 ? "0" : string.Create(Invariant, $"**{errors:N0}**");

    private string Command()
    {
        var arguments = settings.Arguments.Count == 0 ? string.Empty : " -- " + string.Join(' ', settings.Arguments.Select(a => a.Contains(' ', StringComparison.Ordinal) ? $"\"{a}\"" : a));
        return $"dotnet run -c Release --project bench/Coordination.Benchmarks.EndToEnd{arguments}";
    }
}
