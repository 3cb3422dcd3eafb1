using Coordination.Benchmarks.Locks;
using StackExchange.Redis;

namespace Coordination.Benchmarks;

/// <summary>
/// Measures several clients of one cell side by side: one round per client, each a share of the duration, in rotating
/// order (ABC, BCA, CAB), so a drift of the shared machine during the cell hits them all alike; the server's commands
/// and CPU are read around each round.
/// </summary>
internal static class RotatingRounds
{
    public static async Task<(LoadResult[] Results, RedisStats[] ServerUse)> RunAsync(
        IReadOnlyList<Func<int, long, ValueTask>> operations,
        int callers,
        TimeSpan duration,
        IServer admin,
        CancellationToken cancellationToken)
    {
        var count = operations.Count;
        var results = operations.Select(_ => new LoadResult()).ToArray();
        var serverUse = new RedisStats[count];
        var round = duration / count;
        for (var r = 0; r < count; r++)
        {
            for (var k = 0; k < count; k++)
            {
                var i = (r + k) % count;
                var before = await RedisStats.ReadAsync(admin);
                results[i].Add(await LoadRunner.RunAsync(operations[i], callers, round, cancellationToken));
                serverUse[i] = serverUse[i].Add((await RedisStats.ReadAsync(admin)).Since(before));
            }
        }

        return (results, serverUse);
    }
}
