using StackExchange.Redis;

namespace Coordination.Benchmarks;

/// <summary>
/// Opt-in (<c>--breakdown</c>): the same GET through each layer of the coordinator, to see where its cost goes:
/// the raw multiplexer, the pool (routing and counters, on the pool's own multiplexer, which carries the Redis
/// instrumentation with TraceRedisCommands), the executor (pool and metric; the Polly pipelines after a failure), the whole coordinator.
/// Each layer runs for half the duration, in two quarters (ABCD DCBA).
/// </summary>
internal sealed class BreakdownScenario(BenchmarkSettings settings, IConnectionMultiplexer raw, IRedisCoordinator coordinator, RedisExecutor executor)
{
    public async Task RunAsync(Report report, CancellationToken cancellationToken)
    {
        var names = Enumerable.Range(0, settings.Keys).Select(i => $"k{i}").ToArray();
        var keys = names.Select(n => (RedisKey)$"bench:{coordinator.Tenant}:kv:{n}").ToArray();
        var database = raw.GetDatabase();
        int Key(int caller, long call) => (int)((caller * 7_919L + call) % keys.Length);

        var layers = new (string Name, Func<int, long, ValueTask> Operation)[]
        {
            ("raw multiplexer", async (c, i) => await database.StringGetAsync(keys[Key(c, i)])),
            ("pool (Enter/Exit: routing, counters, the pooled multiplexer)", async (c, i) => await GetOnPoolAsync(executor.Pool, keys[Key(c, i)])),
            ("executor (quiet path: pool + metric; Polly after a failure)", async (c, i) => await executor.ExecuteAsync("kv.get", idempotent: true, static (db, k) => db.StringGetAsync(k), keys[Key(c, i)], cancellationToken)),
            ("coordinator (GetAsync<string>: read combining, JSON, span)", async (c, i) => await coordinator.GetAsync<string>(names[Key(c, i)], cancellationToken)),
        };

        // What the executor does around a call on the pool, without the executor.
        static async ValueTask GetOnPoolAsync(RedisConnectionPool pool, RedisKey key)
        {
            var connection = pool.Enter();
            var failed = true;
            try
            {
                await connection.Multiplexer.GetDatabase().StringGetAsync(key);
                failed = false;
            }
            finally
            {
                connection.Exit(failed);
            }
        }

        foreach (var concurrency in settings.Concurrency)
        {
            var results = layers.Select(_ => new LoadResult()).ToArray();
            foreach (var (_, operation) in layers)
            {
                await LoadRunner.RunAsync(operation, concurrency, settings.Warmup, cancellationToken);
            }

            // Two rounds, the second in reverse order (ABCD DCBA), so drift weighs on every layer alike.
            Console.WriteLine($"Breakdown GET x{concurrency}: {layers.Length} layers, {settings.Duration.TotalSeconds / 2:0.#} s each");
            var order = Enumerable.Range(0, layers.Length).ToArray();
            foreach (var index in order.Concat(order.Reverse()))
            {
                results[index].Add(await LoadRunner.RunAsync(layers[index].Operation, concurrency, settings.Duration / 4, cancellationToken));
            }

            for (var i = 0; i < layers.Length; i++)
            {
                report.AddBreakdown(new BreakdownRow(layers[i].Name, concurrency, results[i]));
            }
        }
    }
}
