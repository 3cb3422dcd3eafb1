using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>The outcome of one client's uncontended acquire+release loop at one number of callers (both halves).</summary>
internal sealed class UncontendedRow(string client, int callers)
{
    public string Client { get; } = client;

    public int Callers { get; } = callers;

    public Latencies Pair { get; } = new();

    public Latencies Acquire { get; } = new();

    public long Refused { get; private set; }

    public long Errors { get; private set; }

    public TimeSpan Elapsed { get; private set; }

    public RedisStats Server { get; private set; }

    public double PairsPerSecond => Pair.Count / Elapsed.TotalSeconds;

    public double CommandsPerPair => (double)Server.Commands / Pair.Count;

    /// <summary>Redis CPU time per pair, in microseconds.</summary>
    public double ServerCpuPerPair => Server.CpuSeconds * 1_000_000 / Pair.Count;

    public void Add(IEnumerable<long> pairs, IEnumerable<long> acquires, long refused, long errors, TimeSpan elapsed, RedisStats server)
    {
        Pair.AddRange(pairs);
        Acquire.AddRange(acquires);
        Refused += refused;
        Errors += errors;
        Elapsed += elapsed;
        Server = Server.Add(server);
    }
}

/// <summary>
/// Acquire+release pairs back to back, each caller on its own lock name, so nothing ever waits. Each client runs
/// twice for half the duration, in the order ABCD DCBA (DCBA ABCD in every other cell), so a drift of the shared
/// machine weighs on every client alike.
/// </summary>
internal sealed class UncontendedScenario(LockBenchSettings settings, IReadOnlyList<ILockClient> clients, IServer server)
{
    public async Task<List<UncontendedRow>> RunAsync(CancellationToken cancellationToken)
    {
        var rows = new List<UncontendedRow>();
        var cell = 0;
        foreach (var callers in settings.Callers)
        {
            Console.WriteLine($"Uncontended x{callers}: warm-up, then {settings.Duration.TotalSeconds:0.#} s per client");
            var cellRows = clients.Select(c => new UncontendedRow(c.Name, callers)).ToArray();
            for (var i = 0; i < clients.Count; i++)
            {
                await RunOnceAsync(clients[i], callers, settings.Warmup, null, cancellationToken);
            }

            var forward = Enumerable.Range(0, clients.Count).ToArray();
            int[] order = cell++ % 2 == 0 ? [.. forward, .. forward.Reverse()] : [.. forward.Reverse(), .. forward];
            foreach (var index in order)
            {
                await RunOnceAsync(clients[index], callers, settings.Duration / 2, cellRows[index], cancellationToken);
            }

            foreach (var row in cellRows)
            {
                Console.WriteLine($"  {row.Client,-32} {row.PairsPerSecond,9:N0} pairs/s  p50 {row.Pair.Percentile(0.5),7:N0} µs  p99 {row.Pair.Percentile(0.99),7:N0} µs  errors {row.Errors + row.Refused}");
            }

            rows.AddRange(cellRows);
        }

        return rows;
    }

    private async Task RunOnceAsync(ILockClient client, int callers, TimeSpan duration, UncontendedRow? row, CancellationToken cancellationToken)
    {
        var statsBefore = await RedisStats.ReadAsync(server);
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var pairs = new List<long>[callers];
        var acquires = new List<long>[callers];
        var refused = new long[callers];
        var errors = new long[callers];
        var tasks = Enumerable.Range(0, callers).Select(caller => Task.Run(
            async () =>
            {
                var name = "u-" + caller.ToString(System.Globalization.CultureInfo.InvariantCulture);
                var pairTimes = new List<long>(65_536);
                var acquireTimes = new List<long>(65_536);
                while (!cancellationToken.IsCancellationRequested)
                {
                    var start = Stopwatch.GetTimestamp();
                    if (start >= stopAt)
                    {
                        break;
                    }

                    try
                    {
                        var handle = await client.TryAcquireAsync(name, cancellationToken);
                        var acquired = Stopwatch.GetTimestamp();
                        if (handle is null)
                        {
                            refused[caller]++;
                            continue;
                        }

                        await handle.DisposeAsync();
                        var released = Stopwatch.GetTimestamp();
                        pairTimes.Add(released - start);
                        acquireTimes.Add(acquired - start);
                    }
#pragma warning disable CA1031 // A failed call is counted, not fatal: the report shows the error count.
                    catch (Exception) when (!cancellationToken.IsCancellationRequested)
#pragma warning restore CA1031
                    {
                        errors[caller]++;
                    }
                }

                pairs[caller] = pairTimes;
                acquires[caller] = acquireTimes;
            },
            cancellationToken));
        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var used = (await RedisStats.ReadAsync(server)).Since(statsBefore);
        row?.Add(pairs.SelectMany(p => p), acquires.SelectMany(a => a), refused.Sum(), errors.Sum(), elapsed, used);
    }
}
