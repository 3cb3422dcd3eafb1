using System.Diagnostics;
using Coordination.Benchmarks.Locks;
using StackExchange.Redis;

namespace Coordination.Benchmarks.EndToEnd;

/// <summary>
/// Runs a client's mix from N concurrent callers, each calling back to back until a deadline and timing each call; and
/// measures several clients of one cell side by side the way RotatingRounds does in the sessions and rate-limit
/// benchmarks: one round per client, each a share of the duration, in rotating order (ABC, BCA, CAB), so a drift of the
/// shared machine during the cell hits them all alike; the Redis server's commands and CPU are read around each round.
/// (Not that helper itself: it times one operation kind with LoadRunner, this needs each kind's latencies and p99.9.)
/// </summary>
internal static class MixRunner
{
    public static async Task<MixResult[]> RunRotatingAsync(IReadOnlyList<IMixClient> clients, int callers, TimeSpan duration, IServer admin, CancellationToken cancellationToken)
    {
        var count = clients.Count;
        var results = clients.Select(_ => new MixResult()).ToArray();
        var round = duration / count;
        for (var r = 0; r < count; r++)
        {
            for (var k = 0; k < count; k++)
            {
                var i = (r + k) % count;
                await RunAsync(clients[i], callers, round, results[i], admin, cancellationToken);
            }
        }

        return results;
    }

    /// <summary>Runs <paramref name="client"/> for <paramref name="duration"/> and adds the round to <paramref name="result"/> (a fresh one for a warm-up).</summary>
    public static async Task RunAsync(IMixClient client, int callers, TimeSpan duration, MixResult result, IServer admin, CancellationToken cancellationToken)
    {
        var kinds = Mix.Kinds.Count;
        var latencies = new List<long>[callers][];
        var errors = new Dictionary<string, long>[callers];
        var errorsByKind = new long[callers][];
        var before = await RedisStats.ReadAsync(admin);
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var tasks = Enumerable.Range(0, callers).Select(caller => Task.Run(
            async () =>
            {
                var mine = Enumerable.Range(0, kinds).Select(_ => new List<long>(4_096)).ToArray();
                var myErrors = new Dictionary<string, long>(StringComparer.Ordinal);
                var myErrorsByKind = new long[kinds];
                var random = new Random(caller + 1);
                for (var call = 0L; !cancellationToken.IsCancellationRequested; call++)
                {
                    var begin = Stopwatch.GetTimestamp();
                    if (begin >= stopAt)
                    {
                        break;
                    }

                    var kind = Mix.KindOf(caller, call);
                    string? failure;
                    try
                    {
                        failure = await client.RunAsync(kind, caller, call, random, cancellationToken);
                    }
                    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                    {
                        break;
                    }
#pragma warning disable CA1031 // A failed call is counted by its exception's type, not fatal: the report lists the errors.
                    catch (Exception ex)
#pragma warning restore CA1031
                    {
                        failure = ex.GetType().Name;
                    }

                    if (failure is null)
                    {
                        mine[(int)kind].Add(Stopwatch.GetTimestamp() - begin);
                    }
                    else
                    {
                        var reason = client.RunsMix ? $"{Mix.Name(kind)}: {failure}" : failure;
                        myErrors[reason] = myErrors.GetValueOrDefault(reason) + 1;
                        myErrorsByKind[(int)kind]++;
                    }
                }

                latencies[caller] = mine;
                errors[caller] = myErrors;
                errorsByKind[caller] = myErrorsByKind;
            },
            cancellationToken)).ToArray();
        await Task.WhenAll(tasks);
        var elapsed = Stopwatch.GetElapsedTime(started);
        var serverUse = (await RedisStats.ReadAsync(admin)).Since(before);
        result.AddRound(latencies, errors, errorsByKind, elapsed, serverUse);
    }
}
