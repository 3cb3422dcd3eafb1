using System.Globalization;
using System.Text;
using Coordination.Benchmarks.Locks;

namespace Coordination.Benchmarks.Sessions;

internal sealed record SessionOperation(string Name, string Description, Func<ISessionClient, string> Describe, Func<ISessionClient, Func<int, long, ValueTask>> For);

internal sealed record SessionRow(SessionOperation Operation, string Client, int Callers, LoadResult Result, RedisStats Server);

/// <summary>Collects the results and renders docs/benchmarks-sessions.md.</summary>
internal sealed class SessionReport(
    SessionBenchSettings settings,
    string endpoint,
    bool ownServer,
    string server,
    SessionData sample,
    IReadOnlyList<ISessionClient> clients,
    string? oursUnavailable)
{
    private const string Raw = "raw (a)";
    private const string Peer = "RedisCache (b)";
    private const string Ours = "ours";
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly List<SessionRow> _rows = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly string _loadAtStart = MachineInfo.LoadAverage();

    public void Add(SessionRow row) => _rows.Add(row);

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Session benchmarks");
        md.AppendLine();
        md.AppendLine("Written by `bench/Coordination.Benchmarks.Sessions`; the numbers below are from one run of the command shown. Absolute");
        md.AppendLine("numbers drift between runs and machines: read the ratios, which compare the clients within the same cell of the same run.");
        md.AppendLine();
        md.AppendLine(Invariant, $"- Command: `{Command()}`");
        md.AppendLine(Invariant, $"- Date: {_started:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine(Invariant, $"- Machine: {MachineInfo.Describe()}");
        md.AppendLine(Invariant, $"- Load average (1/5/15 min) at start: {_loadAtStart}; at end: {MachineInfo.LoadAverage()} (the machine is shared; a load near or above the core count inflates tails and the spread between runs)");
        md.AppendLine(Invariant, $"- Redis: {server} on {(ownServer ? "a free loopback port, started by the benchmark, no persistence" : endpoint)}; benchmark and server share the machine's cores");
        md.AppendLine(Invariant, $"- Settings: {settings.Duration.TotalSeconds:0.#} s measured per client and cell, as one round per client in rotating order (ABC, BCA, CAB), each client warmed up {settings.Warmup.TotalSeconds:0.#} s first; {settings.Sessions:N0} sessions pre-created per client for the get cells, each caller reading them in its own random order; idle (sliding) timeout {settings.IdleTimeout.TotalSeconds:0.#} s for every client.");
        md.AppendLine(Invariant, $"- Data, the same for every client: {sample.Fields.Count} fields (identity, locale, theme, roles, a cart, the last page, a CSRF token, feature flags), {sample.FieldBytes} bytes of field names and JSON values, {sample.Json.Length} bytes as one System.Text.Json object.");
        md.AppendLine("- Clients: (a) raw StackExchange.Redis on its own multiplexer; (b) `Microsoft.Extensions.Caching.StackExchangeRedis` `RedisCache` (the `IDistributedCache` ASP.NET Core's session runs on) with its own multiplexer; ours from `AddCoordination()` with default options except the idle timeout, with `Aspire:StackExchange:Redis:DisableTracing=true` like the peers, which trace only when asked.");
        if (oursUnavailable is not null)
        {
            md.AppendLine(Invariant, $"- Ours: **not available** in this build (`IRedisCoordinator.Sessions` threw `NotSupportedException`: \"{oursUnavailable}\"); only the baselines were measured.");
        }

        md.AppendLine();

        foreach (var operation in _rows.Select(r => r.Operation).Distinct())
        {
            md.AppendLine(Invariant, $"## {operation.Name}");
            md.AppendLine();
            md.AppendLine(operation.Description);
            md.AppendLine();
            foreach (var client in clients)
            {
                md.AppendLine(Invariant, $"- {client.Name}: {operation.Describe(client)}");
            }

            if (oursUnavailable is not null)
            {
                md.AppendLine("- ours: not available (see above)");
            }

            md.AppendLine();
            md.AppendLine("| Callers | Client | ops/s | p50 µs | p99 µs | ops/s vs (a) | p50 vs (a) | ops/s vs (b) | p50 vs (b) | Redis commands/op | Redis CPU µs/op | Errors |");
            md.AppendLine("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            foreach (var callers in settings.Callers)
            {
                foreach (var row in _rows.Where(r => r.Operation == operation && r.Callers == callers))
                {
                    var (p50, p99) = row.Result.Percentiles();
                    var raw = Find(operation, Raw, callers)!.Result;
                    var peer = Find(operation, Peer, callers)!.Result;
                    var operations = Math.Max(1, row.Result.Operations);
                    md.AppendLine(Invariant, $"| {callers} | {row.Client} | {row.Result.OperationsPerSecond:N0} | {Micro(p50)} | {Micro(p99)} | {row.Result.OperationsPerSecond / raw.OperationsPerSecond:P0} | {p50 / raw.Percentiles().P50:0.00}x | {row.Result.OperationsPerSecond / peer.OperationsPerSecond:P0} | {p50 / peer.Percentiles().P50:0.00}x | {(double)row.Server.Commands / operations:0.0} | {row.Server.CpuSeconds * 1e6 / operations:0.0} | {row.Result.Errors} |");
                }

                if (oursUnavailable is not null)
                {
                    md.AppendLine(Invariant, $"| {callers} | ours | not available | | | | | | | | | |");
                }
            }

            md.AppendLine();
        }

        AppendTargets(md);
        AppendMethod(md);
        return md.ToString();
    }

    private void AppendTargets(StringBuilder md)
    {
        md.AppendLine("## Against the targets (issue 14)");
        md.AppendLine();
        var get = _rows.Select(r => r.Operation).FirstOrDefault(o => o.Name.StartsWith("get", StringComparison.Ordinal));
        if (get is null || oursUnavailable is not null)
        {
            md.AppendLine("- Get within 15 % of (a) and ahead of (b): **not measured** (ours not available in this run).");
            md.AppendLine();
            return;
        }

        foreach (var callers in settings.Callers)
        {
            var ours = Find(get, Ours, callers)!.Result;
            var raw = Find(get, Raw, callers)!.Result;
            var peer = Find(get, Peer, callers)!.Result;
            var vsRaw = ours.OperationsPerSecond / raw.OperationsPerSecond;
            var p50VsRaw = ours.Percentiles().P50 / raw.Percentiles().P50;
            var vsPeer = ours.OperationsPerSecond / peer.OperationsPerSecond;
            var p50VsPeer = ours.Percentiles().P50 / peer.Percentiles().P50;
            md.AppendLine(Invariant, $"- Get within 15 % of (a), {callers} caller(s): ours does {vsRaw:P0} of raw's ops/s → ops/s **{Verdict(vsRaw >= 0.85)}**; p50 {p50VsRaw:0.00}x → p50 **{Verdict(p50VsRaw <= 1.15)}** (in this run).");
            md.AppendLine(Invariant, $"- Get ahead of (b), {callers} caller(s): ours does {vsPeer:P0} of RedisCache's ops/s, p50 {p50VsPeer:0.00}x → **{Verdict(vsPeer > 1 && p50VsPeer < 1)}** in this run.");
        }

        md.AppendLine();
    }

    private static void AppendMethod(StringBuilder md)
    {
        md.AppendLine("## How it is measured, and what to keep in mind");
        md.AppendLine();
        md.AppendLine("- The clients do different amounts of work, on purpose: (a) is the least a client can send (two commands per get,");
        md.AppendLine("  three per create, pipelined, no parsing, no absolute expiry, client clock), (b) is what ASP.NET Core users run today,");
        md.AppendLine("  and ours does what the `ISessionManager` contract promises (sliding never past the absolute expiry, Redis's clock,");
        md.AppendLine("  a version, a capped per-user index, the data parsed into a `Session`). The \"Redis commands/op\" column shows what");
        md.AppendLine("  each sends; it counts commands run inside Lua scripts too, and `INFO` itself adds about two per round (negligible).");
        md.AppendLine("- (b) per get: `RedisCache.GetAsync` reads the entry (`HMGET` of its absolute expiry, sliding expiry and data) and");
        md.AppendLine("  slides it (`EXPIRE`), then `RefreshAsync` reads and slides again, which is what `DistributedSession` does for a");
        md.AppendLine("  request that loads the session and leaves it unchanged. Its create is one `SetAsync` (a script or `HSET` + `EXPIRE`,");
        md.AppendLine("  depending on the server) with no user index, so there it does less than (a) and ours.");
        md.AppendLine("- (a) create adds the `ZADD` to a per-user index (a sorted set scored by expiry) because ours maintains one to list");
        md.AppendLine("  and revoke a user's sessions; without it (a) would send two commands, not three.");
        md.AppendLine("- New sessions spread over 10,000 users, so no user reaches ours' `MaxSessionsPerUser` (default 100) in a run of");
        md.AppendLine("  normal length, and the create path measured is the common one (no eviction of an old session).");
        md.AppendLine("- 64 callers on two cores shared with redis-server (and, on this machine, with other work: see the load average) are");
        md.AppendLine("  CPU-bound: throughput there measures each client's CPU cost per call (client and server) more than Redis latency.");
        md.AppendLine("- Created sessions stay until their idle timeout; a run of the default length adds some hundred MB to the");
        md.AppendLine("  throwaway server (or to the one given with `--redis`, under the key prefixes `raw:`, `aspnet-session:`, `sessbench`).");
        md.AppendLine();
    }

    private static string Verdict(bool met) => met ? "met" : "not met";

    private static string Micro(double value) => value.ToString(value < 10 ? "N2" : value < 100 ? "N1" : "N0", Invariant);

    private SessionRow? Find(SessionOperation operation, string client, int callers) =>
        _rows.FirstOrDefault(r => r.Operation == operation && r.Client == client && r.Callers == callers);

    private string Command() =>
        "dotnet run -c Release --project bench/Coordination.Benchmarks.Sessions" + (settings.Arguments.Count > 0 ? " -- " + string.Join(' ', settings.Arguments) : string.Empty);
}
