using System.Text.Json;
using StackExchange.Redis;

namespace Coordination.Benchmarks;

/// <summary>
/// SET, GET and DELETE of the same bytes under the same keys, through one raw multiplexer and through the coordinator,
/// at each concurrency. Each client runs twice for half the duration in ABBA order (BAAB in every other cell), so a
/// slow drift of the machine weighs on both sides equally.
/// </summary>
internal sealed class ThroughputScenario(BenchmarkSettings settings, IConnectionMultiplexer raw, IRedisCoordinator coordinator, RedisExecutor executor)
{
    public async Task RunAsync(Report report, CancellationToken cancellationToken)
    {
        // The raw client stores exactly the bytes the coordinator stores: the JSON of a string of this length.
        var payload = new string('x', settings.ValueBytes - 2);
        var payloadBytes = JsonSerializer.SerializeToUtf8Bytes(payload);
        var names = Enumerable.Range(0, settings.Keys).Select(i => $"k{i}").ToArray();
        var keys = names.Select(n => (RedisKey)$"bench:{coordinator.Tenant}:kv:{n}").ToArray();
        var database = raw.GetDatabase();

        foreach (var name in names)
        {
            await coordinator.SetAsync(name, payload, cancellationToken: cancellationToken);
        }

        int Key(int caller, long call) => (int)((caller * 7_919L + call) % keys.Length);

        var operations = new (string Name, Func<int, long, ValueTask> Raw, Func<int, long, ValueTask> Coordinator)[]
        {
            ("SET", async (c, i) => await database.StringSetAsync(keys[Key(c, i)], payloadBytes), (c, i) => coordinator.SetAsync(names[Key(c, i)], payload, cancellationToken: cancellationToken)),
            ("GET", async (c, i) => Check((await database.StringGetAsync(keys[Key(c, i)])).HasValue), async (c, i) => Check((await coordinator.GetAsync<string>(names[Key(c, i)], cancellationToken)).HasValue)),

            // Last, as it empties the keys: after the first pass over them both sides delete keys that are gone.
            ("DELETE", async (c, i) => await database.KeyDeleteAsync(keys[Key(c, i)]), async (c, i) => await coordinator.DeleteAsync(names[Key(c, i)], cancellationToken)),
        };

        var cell = 0;
        foreach (var (name, rawOperation, coordinatorOperation) in operations)
        {
            foreach (var concurrency in settings.Concurrency)
            {
                Console.WriteLine($"{name} x{concurrency}: warm-up, then {settings.Duration.TotalSeconds:0.#} s per client");
                await LoadRunner.RunAsync(rawOperation, concurrency, settings.Warmup, cancellationToken);
                await LoadRunner.RunAsync(coordinatorOperation, concurrency, settings.Warmup, cancellationToken);

                var rawResult = new LoadResult();
                var coordinatorResult = new LoadResult();
                var half = settings.Duration / 2;
                var order = cell++ % 2 == 0 ? new[] { true, false, false, true } : [false, true, true, false];
                foreach (var isRaw in order)
                {
                    var result = await LoadRunner.RunAsync(isRaw ? rawOperation : coordinatorOperation, concurrency, half, cancellationToken);
                    (isRaw ? rawResult : coordinatorResult).Add(result);
                }

                report.AddThroughput(new ThroughputRow(name, concurrency, rawResult, coordinatorResult, executor.Pool.Size));
                Console.WriteLine($"  raw {rawResult.OperationsPerSecond:N0} ops/s, coordinator {coordinatorResult.OperationsPerSecond:N0} ops/s");
            }
        }
    }

    private static void Check(bool found)
    {
        if (!found)
        {
            throw new InvalidOperationException("A key written before the run was not found.");
        }
    }
}
