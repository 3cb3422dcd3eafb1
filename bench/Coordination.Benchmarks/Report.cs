using System.Globalization;
using System.Text;

namespace Coordination.Benchmarks;

internal sealed record ThroughputRow(string Operation, int Concurrency, LoadResult Raw, LoadResult Coordinator, int PoolSize);

internal sealed record FailFastRow(int Concurrency, LoadResult Result);

internal sealed record BreakdownRow(string Layer, int Concurrency, LoadResult Result);

/// <summary>Collects the results and renders docs/benchmarks.md.</summary>
internal sealed class Report(BenchmarkSettings settings, string endpoint, bool ownServer, string server)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly List<ThroughputRow> _throughput = [];
    private readonly List<FailFastRow> _failFast = [];
    private readonly List<BreakdownRow> _breakdown = [];
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly string _loadAtStart = MachineInfo.LoadAverage();
    private List<ReconnectRun>? _reconnect;

    public void AddThroughput(ThroughputRow row) => _throughput.Add(row);

    public void AddFailFast(FailFastRow row) => _failFast.Add(row);

    public void AddBreakdown(BreakdownRow row) => _breakdown.Add(row);

    public void SetReconnect(List<ReconnectRun> runs) => _reconnect = runs;

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks");
        md.AppendLine();
        md.AppendLine("Written by `bench/Coordination.Benchmarks`; the numbers below are from one run of the command shown. Absolute");
        md.AppendLine("numbers drift between runs and machines: read the ratios, which compare both clients in the same run.");
        md.AppendLine();
        md.AppendLine(Invariant, $"- Command: `{Command()}`");
        md.AppendLine(Invariant, $"- Date: {_started:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine(Invariant, $"- Machine: {MachineInfo.Describe()}");
        md.AppendLine(Invariant, $"- Load average (1/5/15 min) at start: {_loadAtStart}; at end: {MachineInfo.LoadAverage()} (the machine is shared; a load near or above the core count inflates tails and the spread between runs)");
        md.AppendLine(Invariant, $"- Redis: {server} on {(ownServer ? "a free loopback port, started by the benchmark, no persistence" : endpoint)}");
        md.AppendLine(Invariant, $"- Key quota per tenant: {(settings.KeyQuota is { } quota ? (quota == 0 ? "off (`Coordination:Quotas:MaxKeysPerTenant=0`: a set is a plain `SET`)" : $"`Coordination:Quotas:MaxKeysPerTenant={quota}`") : "the default (off: a set is a plain `SET`)")}");
        md.AppendLine(Invariant, $"- Tracing: {(settings.DisableTracing ? "disabled (`Aspire:StackExchange:Redis:DisableTracing=true`)" : settings.TraceRedisCommands ? "spans and a span per Redis command (`Coordination:TraceRedisCommands=true`), no exporter" : "as `AddCoordination` sets it up by default (a span per operation, no span per Redis command, no exporter)")}");
        md.AppendLine(Invariant, $"- Settings: {settings.Duration.TotalSeconds:0.#} s measured per client and cell, in two halves run in ABBA order (BAAB in every other cell), each client warmed up {settings.Warmup.TotalSeconds:0.#} s first; values of {settings.ValueBytes} bytes over {settings.Keys} keys.");
        md.AppendLine("- Other benchmarks, each written by its own project with its command: [locks](benchmarks-locks.md) (`bench/Coordination.Benchmarks.Locks`), [cache](benchmarks-cache.md) (`bench/Coordination.Benchmarks.Cache`), [noisy neighbours](benchmarks-noisy.md) (`bench/Coordination.Benchmarks.Noisy`: one tenant attacking the HTTP API while another measures its latency), [durability](benchmarks-durability.md) (`bench/Coordination.Benchmarks -- --durability`), [sessions](benchmarks-sessions.md) (`bench/Coordination.Benchmarks.Sessions`), [rate limiting](benchmarks-ratelimiting.md) (`bench/Coordination.Benchmarks.RateLimiting`), [end to end](benchmarks-endtoend.md) (`bench/Coordination.Benchmarks.EndToEnd`: one mixed workload through the API's two replicas, through the library, and against a trivial ASP.NET Core endpoint), [soak](soak.md) (`bench/Coordination.Soak`: ten minutes of a steady mix through the library; memory and connection counts flat)");
        md.AppendLine();

        md.AppendLine("## Throughput and latency: raw StackExchange.Redis vs `IRedisCoordinator`");
        md.AppendLine();
        md.AppendLine("| Operation | Callers | Raw ops/s | Raw p50 µs | Raw p99 µs | Coordinator ops/s | Coordinator p50 µs | Coordinator p99 µs | Throughput vs raw | p50 vs raw |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var row in _throughput)
        {
            var (rawP50, rawP99) = row.Raw.Percentiles();
            var (p50, p99) = row.Coordinator.Percentiles();
            md.AppendLine(Invariant, $"| {row.Operation} | {row.Concurrency} | {row.Raw.OperationsPerSecond:N0} | {rawP50:N0} | {rawP99:N0} | {row.Coordinator.OperationsPerSecond:N0} | {p50:N0} | {p99:N0} | {row.Coordinator.OperationsPerSecond / row.Raw.OperationsPerSecond:P0} | {p50 / rawP50:0.00}x |");
        }

        var errors = _throughput.Sum(r => r.Raw.Errors + r.Coordinator.Errors);
        md.AppendLine();
        md.AppendLine(Invariant, $"Failed calls during these runs: {errors}. Coordinator pool size at the end of each cell: {string.Join(", ", _throughput.Select(r => r.PoolSize).Distinct())} connection(s); the raw side uses one multiplexer.");
        md.AppendLine();

        if (_breakdown.Count > 0)
        {
            md.AppendLine("## Where the coordinator's time goes (GET through each layer)");
            md.AppendLine();
            md.AppendLine(Invariant, $"Each layer adds to the one above it, except that the coordinator layer combines concurrent reads into MGETs, which the layers below it do not. Each runs {settings.Duration.TotalSeconds / 2:0.#} s in two quarters, in the order ABCD DCBA; compare within one concurrency.");
            md.AppendLine();
            md.AppendLine("| Callers | Layer | ops/s | p50 µs | p99 µs | Throughput vs raw |");
            md.AppendLine("|---:|---|---:|---:|---:|---:|");
            foreach (var row in _breakdown)
            {
                var (p50, p99) = row.Result.Percentiles();
                var baseline = _breakdown.First(b => b.Concurrency == row.Concurrency).Result.OperationsPerSecond;
                md.AppendLine(Invariant, $"| {row.Concurrency} | {row.Layer} | {row.Result.OperationsPerSecond:N0} | {p50:N0} | {p99:N0} | {row.Result.OperationsPerSecond / baseline:P0} |");
            }

            md.AppendLine();
        }

        md.AppendLine("## Fail-fast with the circuit open");
        md.AppendLine();
        md.AppendLine("The circuit is isolated by hand (`CircuitControl.IsolateAsync`), so every `GetAsync` is refused with");
        md.AppendLine("`CoordinationUnavailableException` (`Reason = CircuitOpen`) without touching Redis. The time includes throwing and catching the exception.");
        md.AppendLine();
        md.AppendLine("| Callers | Refusals/s | p50 µs | p99 µs |");
        md.AppendLine("|---:|---:|---:|---:|");
        foreach (var row in _failFast)
        {
            var (p50, p99) = row.Result.Percentiles();
            md.AppendLine(Invariant, $"| {row.Concurrency} | {row.Result.OperationsPerSecond:N0} | {p50:N1} | {p99:N1} |");
        }

        md.AppendLine();
        AppendReconnect(md);
        AppendInterpretation(md);
        return md.ToString();
    }

    private void AppendReconnect(StringBuilder md)
    {
        md.AppendLine("## Reconnect after `kill -9` and restart");
        md.AppendLine();
        if (_reconnect is not { Count: > 0 } runs)
        {
            md.AppendLine(ownServer ? "Skipped (`--reconnect-runs 0`)." : "Skipped: the server was not started by the benchmark (`--redis`).");
            md.AppendLine();
            return;
        }

        md.AppendLine(Invariant, $"The server is killed with SIGKILL, stays down {settings.Downtime.TotalMilliseconds:0} ms, and is started again on the same port. Both clients");
        md.AppendLine("make one call per millisecond throughout. Each run starts from a closed circuit with empty failure statistics, so the");
        md.AppendLine("outage's failures open the coordinator's circuit (the worst case for its recovery; with a long history of successes");
        md.AppendLine("in the sampling window a short outage may not open it). Times are in milliseconds from the restart (the moment");
        md.AppendLine("redis-server is launched again).");
        md.AppendLine();
        md.Append("| Measure |");
        for (var i = 1; i <= runs.Count; i++)
        {
            md.Append(Invariant, $" Run {i} |");
        }

        md.AppendLine(" Median |");
        md.Append("|---|");
        md.Append(string.Concat(Enumerable.Repeat("---:|", runs.Count + 1)));
        md.AppendLine();
        Row("redis-server answers PING", r => r.ServerReadyMs);
        Row("raw multiplexer `IsConnected` again", r => r.RawConnectedMs);
        Row("raw: first successful GET", r => r.RawFirstSuccessMs);
        Row("coordinator pool connected again", r => r.PoolConnectedMs);
        Row("coordinator: first successful `GetAsync`", r => r.CoordinatorFirstSuccessMs);
        md.AppendLine();
        md.AppendLine(Invariant, $"Circuit state when the server restarted: {string.Join(", ", runs.Select(r => r.CircuitAtRestart))}; circuit openings per run: {string.Join(", ", runs.Select(r => r.CircuitOpenings))}. Loss noticed by both clients within {runs.Max(r => r.LossNoticedMs):N0} ms of the kill.");
        md.AppendLine();

        void Row(string name, Func<ReconnectRun, double> value)
        {
            md.Append(Invariant, $"| {name} |");
            foreach (var run in runs)
            {
                md.Append(Invariant, $" {value(run):N0} |");
            }

            md.AppendLine(Invariant, $" {Median(runs.Select(value)):N0} |");
        }
    }

    private void AppendInterpretation(StringBuilder md)
    {
        md.AppendLine("## Interpretation");
        md.AppendLine();
        foreach (var row in _throughput)
        {
            var (rawP50, _) = row.Raw.Percentiles();
            var (p50, _) = row.Coordinator.Percentiles();
            var ratio = row.Coordinator.OperationsPerSecond / row.Raw.OperationsPerSecond;
            var verdict = Math.Abs(ratio - 1) <= 0.2 ? " (on par: within the run-to-run noise of about ±20 % seen for one caller on this shared machine)" : string.Empty;
            md.AppendLine(Invariant, $"- {row.Operation} with {row.Concurrency} caller(s): the coordinator does {ratio:P0} of the raw client's operations per second{verdict}; its median call takes {p50 - rawP50:+#,0;-#,0;0} µs ({p50 / rawP50:0.00}x) compared with raw.");
        }

        foreach (var group in _breakdown.GroupBy(r => r.Concurrency))
        {
            var rows = group.ToArray();
            var largest = Enumerable.Range(1, rows.Length - 1)
                .Select(i => (Layer: rows[i].Layer, Drop: rows[i - 1].Result.OperationsPerSecond - rows[i].Result.OperationsPerSecond))
                .MaxBy(step => step.Drop);
            // Below a tenth of raw throughput a step is within the run-to-run noise of a shared two-core machine.
            if (largest.Drop > rows[0].Result.OperationsPerSecond / 10)
            {
                md.AppendLine(Invariant, $"- Layers at {group.Key} caller(s): the largest loss of throughput comes with the {largest.Layer} step ({largest.Drop / rows[0].Result.OperationsPerSecond:P0} of raw throughput).");
            }
        }

        if (_failFast.Count > 0)
        {
            var worst = _failFast.Max(r => r.Result.Percentiles().P99);
            md.AppendLine(Invariant, $"- With the circuit open a call is refused in microseconds (p99 at most {worst:N0} µs here), not after the {new ResilienceOptions().AttemptTimeout.TotalSeconds:0.#} s attempt timeout or the client's connect/sync timeouts.");
        }

        if (_reconnect is { Count: > 0 } runs)
        {
            var served = Median(runs.Select(r => r.CoordinatorFirstSuccessMs));
            var connected = Median(runs.Select(r => r.PoolConnectedMs));
            md.AppendLine(Invariant, $"- After a crash and restart the coordinator served again {served:N0} ms (median) after the restart; its pool was connected after {connected:N0} ms and the raw multiplexer served after {Median(runs.Select(r => r.RawFirstSuccessMs)):N0} ms.");
            if (runs.Any(r => r.CircuitOpenings > 0))
            {
                md.AppendLine(Invariant, $"  The traffic during the outage opened the circuit; the pool's first restored connection ends its break at once (a completed handshake is the probe the break waits for), so recovery follows the reconnect rather than the break ({new ResilienceOptions().BreakDuration.TotalSeconds:0.#} s by default).");
            }

            var reopened = runs.Count(r => r.CircuitOpenings > 1);
            if (reopened > 0)
            {
                md.AppendLine(Invariant, $"  In {reopened} run(s) the half-open probe came before the pool had reconnected (its reconnect delay grows with jitter during an outage), so the circuit opened again until the reconnect ended that break.");
            }
        }

        md.AppendLine();
        md.AppendLine("What each side does per call:");
        md.AppendLine();
        md.AppendLine("- Raw: `IDatabase.StringSetAsync` / `StringGetAsync` / `KeyDeleteAsync` on one `ConnectionMultiplexer` with default settings, bytes in and out.");
        md.AppendLine("- Coordinator: `IRedisCoordinator.SetAsync` / `GetAsync<string>` / `DeleteAsync` resolved from a host built with `AddCoordination()` and default");
        md.AppendLine("  options (no PostgreSQL fallback): key validation, System.Text.Json (de)serialization of the value, the executor (the");
        md.AppendLine("  Polly pipelines with retry and circuit breaker only after a failure, see docs/architecture.md), routing to the");
        md.AppendLine("  least-loaded pooled connection, a metric and an `Activity` per call (no exporter is configured here). A `GetAsync`");
        md.AppendLine("  that finds another read in flight joins a batch sent as one MGET (read combining, `Coordination:MaxReadsInFlight`),");
        md.AppendLine("  which is how it can beat the raw client under load: one command carries many keys. Likewise a `SetAsync` or");
        md.AppendLine("  `DeleteAsync` that finds another write in flight joins a batch sent as one MSET or one `kv_write_batch.lua`");
        md.AppendLine("  (write combining, `Coordination:MaxWritesInFlight`).");
        md.AppendLine("  Both sides send the same bytes under the same keys. DELETE runs last: after its first pass over the keys both sides");
        md.AppendLine("  delete keys that are gone.");
        md.AppendLine();
        md.AppendLine("The spans are part of the default cost measured here; `--disable-tracing` runs the same benchmark with");
        md.AppendLine("`Aspire:StackExchange:Redis:DisableTracing=true`, and `--trace-redis-commands` with a span per Redis command as well.");
    }

    private string Command() =>
        "dotnet run -c Release --project bench/Coordination.Benchmarks" + (settings.Arguments.Count > 0 ? " -- " + string.Join(' ', settings.Arguments) : string.Empty);

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}
