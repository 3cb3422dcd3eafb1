using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace Coordination.Benchmarks;

/// <summary>
/// What the PostgreSQL copy of key/value writes costs and how far it lags: SET through raw StackExchange.Redis, through
/// the coordinator with the fallback store (asynchronous copy, the default) and with
/// <see cref="KeyValueDurability.Synchronous"/>, side by side at each concurrency in rotating order; the asynchronous
/// copy's lag (Redis write to PostgreSQL commit) from the <c>coordination.fallback.mirror.lag</c> histogram.
/// </summary>
internal sealed class DurabilityScenario(BenchmarkSettings settings, IConnectionMultiplexer raw, IRedisCoordinator coordinator, ICoordinationMonitor monitor, string postgresDescription)
{
    private static readonly CultureInfo Invariant = CultureInfo.InvariantCulture;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly string _loadAtStart = MachineInfo.LoadAverage();

    public async Task<string> RunAsync(string server, Func<int, IHost> repairHost, CancellationToken cancellationToken)
    {
        var payload = new string('x', settings.ValueBytes - 2);
        var payloadBytes = JsonSerializer.SerializeToUtf8Bytes(payload);
        var names = Enumerable.Range(0, settings.Keys).Select(i => $"d{i}").ToArray();
        var keys = names.Select(n => (RedisKey)$"bench:{coordinator.Tenant}:kv:{n}").ToArray();
        var database = raw.GetDatabase();
        int Key(int caller, long call) => (int)((caller * 7_919L + call) % keys.Length);

        var clients = new (string Name, Func<int, long, ValueTask> Operation)[]
        {
            ("raw", async (c, i) => await database.StringSetAsync(keys[Key(c, i)], payloadBytes)),
            ("asynchronous", (c, i) => coordinator.SetAsync(names[Key(c, i)], payload, null, KeyValueDurability.Asynchronous, cancellationToken)),
            ("synchronous", (c, i) => coordinator.SetAsync(names[Key(c, i)], payload, null, KeyValueDurability.Synchronous, cancellationToken)),
        };

        using var lag = new LagRecorder();
        var rows = new List<(int Concurrency, LoadResult[] Results, double[] Lag, long Dropped)>();
        foreach (var concurrency in settings.Concurrency)
        {
            Console.WriteLine($"SET x{concurrency}: warm-up, then {settings.Duration.TotalSeconds:0.#} s per client");
            foreach (var (_, operation) in clients)
            {
                await LoadRunner.RunAsync(operation, concurrency, settings.Warmup, cancellationToken);
            }

            var results = clients.Select(_ => new LoadResult()).ToArray();
            var lags = new List<double>();
            long dropped = 0;
            // Three rounds of a third each, the order rotated every round, so a drift of the machine weighs on all three.
            for (var round = 0; round < 3; round++)
            {
                for (var step = 0; step < clients.Length; step++)
                {
                    var client = (step + round) % clients.Length;
                    await SettleAsync(cancellationToken);
                    lag.Reset();
                    var droppedBefore = (await monitor.GetStatusAsync(cancellationToken)).Fallback.MirrorDroppedWrites;
                    results[client].Add(await LoadRunner.RunAsync(clients[client].Operation, concurrency, settings.Duration / 3, cancellationToken));
                    if (clients[client].Name == "asynchronous")
                    {
                        // The copies of the last writes land after the run: wait for them before reading the lags.
                        await SettleAsync(cancellationToken);
                        lags.AddRange(lag.Take());
                        dropped += (await monitor.GetStatusAsync(cancellationToken)).Fallback.MirrorDroppedWrites - droppedBefore;
                    }
                }
            }

            lags.Sort();
            rows.Add((concurrency, results, [.. lags], dropped));
            Console.WriteLine(string.Join(", ", clients.Select((c, i) => $"{c.Name} {results[i].OperationsPerSecond:N0} ops/s")));
        }

        var paced = new List<(int Rate, LoadResult Result, double[] Lag, long Dropped)>();
        foreach (var rate in settings.PacedRates)
        {
            Console.WriteLine($"SET paced at {rate:N0}/s from 64 callers for {settings.Duration.TotalSeconds:0.#} s");
            var pacer = new Pacer(rate);
            await SettleAsync(cancellationToken);
            lag.Reset();
            var droppedBefore = (await monitor.GetStatusAsync(cancellationToken)).Fallback.MirrorDroppedWrites;
            var result = await LoadRunner.RunAsync(
                async (c, i) =>
                {
                    await pacer.WaitTurnAsync(cancellationToken);
                    await coordinator.SetAsync(names[Key(c, i)], payload, null, KeyValueDurability.Asynchronous, cancellationToken);
                },
                64,
                settings.Duration,
                cancellationToken);
            await SettleAsync(cancellationToken);
            var lags = lag.Take();
            lags.Sort();
            paced.Add((rate, result, [.. lags], (await monitor.GetStatusAsync(cancellationToken)).Fallback.MirrorDroppedWrites - droppedBefore));
        }

        var repairs = new List<RepairRun>();
        foreach (var rate in settings.RepairRates)
        {
            repairs.Add(await RunRepairAsync(repairHost(rate), rate, cancellationToken));
        }

        return ToMarkdown(server, clients.Select(c => c.Name).ToArray(), rows, paced, repairs);
    }

    /// <summary>
    /// Writes <see cref="BenchmarkSettings.RepairKeys"/> keys, waits for their copies, flushes Redis as an operator
    /// would, and times the detection, the first read served again (read-through) and the bulk reload.
    /// </summary>
    private async Task<RepairRun> RunRepairAsync(IHost host, int rate, CancellationToken cancellationToken)
    {
        Console.WriteLine($"Repair of {settings.RepairKeys:N0} keys after FLUSHALL at RepairRowsPerSecond={rate:N0}");
        await host.StartAsync(cancellationToken);
        try
        {
            var hostMonitor = host.Services.GetRequiredService<ICoordinationMonitor>();
            var writer = host.Services.GetRequiredService<IRedisCoordinator>();
            await WaitForAsync(hostMonitor, s => s.Fallback.Ready && s.Fallback.Repair.State == FallbackRepairState.Idle, "the repair host to be ready", cancellationToken);
            var payload = new string('x', settings.ValueBytes - 2);
            await Parallel.ForAsync(0, settings.RepairKeys, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken }, async (i, ct) =>
                await writer.SetAsync($"r{i}", payload, cancellationToken: ct));
            await WaitForAsync(hostMonitor, s => s.Fallback is { MirrorBacklog: 0, MirrorBehind: false }, "the copies", cancellationToken);

            await using var admin = await ConnectionMultiplexer.ConnectAsync(raw.GetEndPoints()[0] + ",allowAdmin=true");
            var flushed = System.Diagnostics.Stopwatch.GetTimestamp();
            await admin.GetServers()[0].FlushAllDatabasesAsync();
            var probe = settings.RepairKeys / 2;
            while (!(await writer.GetAsync<string>($"r{probe}", cancellationToken)).HasValue)
            {
                await Task.Delay(10, cancellationToken);
            }

            var firstRead = System.Diagnostics.Stopwatch.GetElapsedTime(flushed);
            await WaitForAsync(hostMonitor, s => s.Fallback.Repair.State == FallbackRepairState.Idle, "the reload to finish", cancellationToken);
            var reloaded = System.Diagnostics.Stopwatch.GetElapsedTime(flushed);
            var database = admin.GetDatabase();
            var prefix = $"bench-repair-{rate.ToString(Invariant)}:{writer.Tenant}:kv:r";
            var present = 0;
            for (var start = 0; start < settings.RepairKeys; start += 1000)
            {
                var keys = Enumerable.Range(start, Math.Min(1000, settings.RepairKeys - start)).Select(i => (RedisKey)(prefix + i.ToString(Invariant))).ToArray();
                present += (int)await database.KeyExistsAsync(keys);
            }

            return new RepairRun(rate, settings.RepairKeys, present, firstRead, reloaded);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }
    }

    private static async Task WaitForAsync(ICoordinationMonitor monitor, Func<CoordinationStatus, bool> done, string what, CancellationToken cancellationToken)
    {
        for (var i = 0; i < 6_000; i++)
        {
            if (done(await monitor.GetStatusAsync(cancellationToken)))
            {
                return;
            }

            await Task.Delay(10, cancellationToken);
        }

        throw new TimeoutException($"Waited 60 s for {what}.");
    }

    private sealed record RepairRun(int Rate, int Keys, int Present, TimeSpan FirstRead, TimeSpan Reloaded);

    /// <summary>Waits until the mirror has nothing queued or behind, so one cell's backlog does not weigh on the next.</summary>
    private async Task SettleAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await monitor.GetStatusAsync(cancellationToken) is { Fallback: { MirrorBacklog: 0, MirrorBehind: false } })
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private string ToMarkdown(
        string server,
        string[] clients,
        List<(int Concurrency, LoadResult[] Results, double[] Lag, long Dropped)> rows,
        List<(int Rate, LoadResult Result, double[] Lag, long Dropped)> paced,
        List<RepairRun> repairs)
    {
        var md = new StringBuilder();
        md.AppendLine("# Benchmarks: the durable copy of key/value writes");
        md.AppendLine();
        md.AppendLine("Written by `bench/Coordination.Benchmarks --durability`. What copying every key/value write to PostgreSQL costs a");
        md.AppendLine("writer, asynchronously (the default) and synchronously, against raw StackExchange.Redis in the same run, and how long");
        md.AppendLine("the asynchronous copy lags behind Redis. docs/reliability.md states the guarantee these numbers support.");
        md.AppendLine();
        md.AppendLine(Invariant, $"- Command: `dotnet run -c Release --project bench/Coordination.Benchmarks -- {string.Join(' ', settings.Arguments.Select(a => a.Any(c => !char.IsAsciiLetterOrDigit(c) && !",._-/:=".Contains(c, StringComparison.Ordinal)) ? $"\"{a}\"" : a))}`");
        md.AppendLine(Invariant, $"- Date: {_started:yyyy-MM-dd HH:mm} UTC");
        md.AppendLine(Invariant, $"- Machine: {MachineInfo.Describe()}");
        md.AppendLine(Invariant, $"- Load average (1/5/15 min) at start: {_loadAtStart}; at end: {MachineInfo.LoadAverage()}");
        md.AppendLine(Invariant, $"- Redis: {server}, started by the benchmark on a loopback port, no persistence");
        md.AppendLine(Invariant, $"- PostgreSQL: {postgresDescription}; started for the run with `initdb -D <dir> -U postgres --auth=trust` and `pg_ctl -D <dir> -o \"-p 55432 -c listen_addresses=127.0.0.1\" start` (as the `postgres` user), then `CREATE DATABASE coordinationdb`");
        md.AppendLine(Invariant, $"- Settings: {settings.Duration.TotalSeconds:0.#} s measured per client and concurrency, in three rounds with the order rotated, each client warmed up {settings.Warmup.TotalSeconds:0.#} s first; values of {settings.ValueBytes} bytes over {settings.Keys} keys; the coordinator with default options and the fallback store.");
        md.AppendLine();
        md.AppendLine("## SET: raw vs coordinator, asynchronous and synchronous copy");
        md.AppendLine();
        md.AppendLine("| Callers | Client | ops/s | p50 µs | p99 µs | errors | vs raw ops/s |");
        md.AppendLine("|---:|---|---:|---:|---:|---:|---:|");
        foreach (var (concurrency, results, _, _) in rows)
        {
            for (var i = 0; i < clients.Length; i++)
            {
                var (p50, p99) = results[i].Percentiles();
                md.AppendLine(Invariant, $"| {concurrency} | {clients[i]} | {results[i].OperationsPerSecond:N0} | {p50:N0} | {p99:N0} | {results[i].Errors} | {results[i].OperationsPerSecond / results[0].OperationsPerSecond:P0} |");
            }
        }

        md.AppendLine();
        md.AppendLine("## Lag of the asynchronous copy (Redis write to PostgreSQL commit)");
        md.AppendLine();
        md.AppendLine("| Load | writes/s | copies | dropped (reconciled later) | p50 ms | p99 ms | p99.9 ms | max ms |");
        md.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var (rate, result, lags, dropped) in paced)
        {
            md.AppendLine(Invariant, $"| paced, 64 callers | {result.OperationsPerSecond:N0} (target {rate:N0}) | {lags.Length:N0} | {dropped:N0} | {Quantile(lags, 0.50):0.0} | {Quantile(lags, 0.99):0.0} | {Quantile(lags, 0.999):0.0} | {Max(lags):0.0} |");
        }

        foreach (var (concurrency, results, lags, dropped) in rows)
        {
            md.AppendLine(Invariant, $"| flat out, {concurrency} caller{(concurrency == 1 ? "" : "s")} | {results[1].OperationsPerSecond:N0} | {lags.Length:N0} | {dropped:N0} | {Quantile(lags, 0.50):0.0} | {Quantile(lags, 0.99):0.0} | {Quantile(lags, 0.999):0.0} | {Max(lags):0.0} |");
        }

        md.AppendLine();
        md.AppendLine("## Repair after an operator's FLUSHALL");
        md.AppendLine();
        md.AppendLine("A host of its own (its own key prefix) writes the keys, waits until their copies are committed, and then Redis is");
        md.AppendLine("flushed. Times from the flush: until a read of one key is answered again (the loss is noticed within");
        md.AppendLine("`LossCheckInterval`, 1 s, then the read goes through to the mirror), and until the bulk reload is done.");
        md.AppendLine();
        md.AppendLine("| `RepairRowsPerSecond` | keys | back in Redis | first read answered | reload done | rows/s (reload done) |");
        md.AppendLine("|---:|---:|---:|---:|---:|---:|");
        foreach (var run in repairs)
        {
            md.AppendLine(Invariant, $"| {run.Rate:N0} | {run.Keys:N0} | {run.Present:N0} | {run.FirstRead.TotalMilliseconds:N0} ms | {run.Reloaded.TotalSeconds:0.00} s | {run.Keys / run.Reloaded.TotalSeconds:N0} |");
        }

        md.AppendLine();
        md.AppendLine("- Raw: `IDatabase.StringSetAsync` on one multiplexer, the same bytes under the same keys.");
        md.AppendLine("- Asynchronous: `IRedisCoordinator.SetAsync(..., KeyValueDurability.Asynchronous, ...)`: the Redis `SET`, then the write queued");
        md.AppendLine("  for PostgreSQL (batched, one round trip per batch of up to `Coordination:Fallback:MirrorBatchSize`).");
        md.AppendLine("- Synchronous: the same, then waiting for the commit of the batch that carries the write.");
        return md.ToString();
    }

    private static double Quantile(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[(int)Math.Round(q * (sorted.Length - 1))];

    private static double Max(double[] sorted) => sorted.Length == 0 ? double.NaN : sorted[^1];

    /// <summary>Hands out turns at a fixed total rate to any number of callers.</summary>
    private sealed class Pacer(int perSecond)
    {
        private readonly long _interval = Math.Max(1, System.Diagnostics.Stopwatch.Frequency / perSecond);
        private long _next = System.Diagnostics.Stopwatch.GetTimestamp();

        public async ValueTask WaitTurnAsync(CancellationToken cancellationToken)
        {
            var turn = Interlocked.Add(ref _next, _interval) - _interval;
            var wait = System.Diagnostics.Stopwatch.GetElapsedTime(System.Diagnostics.Stopwatch.GetTimestamp(), turn);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, cancellationToken);
            }
        }
    }

    /// <summary>Collects the values of <c>coordination.fallback.mirror.lag</c>.</summary>
    private sealed class LagRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _gate = new();
        private List<double> _values = [];

        public LagRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "coordination.fallback.mirror.lag")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
            {
                lock (_gate)
                {
                    _values.Add(value);
                }
            });
            _listener.Start();
        }

        public void Reset() => Take();

        public List<double> Take()
        {
            lock (_gate)
            {
                var taken = _values;
                _values = [];
                return taken;
            }
        }

        public void Dispose() => _listener.Dispose();
    }
}
