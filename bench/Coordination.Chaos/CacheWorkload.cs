using System.Diagnostics;

namespace Coordination.Chaos;

/// <summary>
/// Workers write increasing numbers to their own cache keys through either node and read them through either node.
/// After recovery (writers paused, three invalidation-log polls waited) every key is read through both nodes: a value
/// older than the last acknowledged write (and not a failed write's) is a violation; a miss is allowed (it is a cache).
/// </summary>
internal sealed class CacheWorkload(Recorder recorder, IReadOnlyList<LibraryNode> nodes)
{
    public const string StaleInvariant = "cache: value older than the last acknowledged write";
    public const int Workers = 2;
    public const int KeysPerWorker = 25;
    public static readonly TimeSpan Settle = TimeSpan.FromSeconds(1.5);

    private readonly Tracked[][] _keys =
        [.. Enumerable.Range(0, Workers).Select(w => Enumerable.Range(0, KeysPerWorker).Select(k => new Tracked($"chaos-cache-{w}-{k}")).ToArray())];

    public PauseGate Gate { get; } = new();

    public Task[] Start(CancellationToken cancellationToken) =>
    [
        .. Enumerable.Range(0, Workers).Select(worker => { Gate.Register(); return Task.Run(() => RunAsync(worker, cancellationToken), cancellationToken); }),
    ];

    public async Task VerifyAsync(ScenarioStats stats, CancellationToken cancellationToken)
    {
        await Gate.PauseAsync(cancellationToken);
        try
        {
            await Task.Delay(Settle, cancellationToken);
            long misses = 0;
            long lateFailed = 0;
            foreach (var tracked in _keys.SelectMany(k => k).Where(t => t.Attempted >= 0))
            {
                foreach (var node in nodes)
                {
                    CacheResult<long> read;
                    try
                    {
                        read = await node.Coordinator.Cache.GetAsync<long>(tracked.Id, cancellationToken);
                    }
                    catch (CoordinationUnavailableException ex)
                    {
                        stats.Notes.Enqueue($"cache key {tracked.Id} via {node.Name} not verified: {ex.Reason}");
                        continue;
                    }

                    stats.Check(StaleInvariant);
                    if (!read.HasValue)
                    {
                        misses++;
                        continue;
                    }

                    if (!tracked.Accepts(read.Value))
                    {
                        stats.Violation(StaleInvariant);
                        stats.Notes.Enqueue($"cache key {tracked.Id} via {node.Name}: {read.Value} ({read.Source}), acknowledged {tracked.Acknowledged}, attempted {tracked.Attempted}");
                    }
                    else if (read.Value < tracked.Acknowledged)
                    {
                        lateFailed++;
                    }
                }
            }

            if (misses > 0 || lateFailed > 0)
            {
                stats.Notes.Enqueue($"cache read-back: {misses} misses, {lateFailed} values of a failed (timed-out) write that landed after a later acknowledged one");
            }
        }
        finally
        {
            Gate.Resume();
        }
    }

    private async Task RunAsync(int worker, CancellationToken cancellationToken)
    {
        var keys = _keys[worker];
        var random = new Random(100 + worker);
        while (!cancellationToken.IsCancellationRequested)
        {
            await Gate.CheckAsync(cancellationToken);
            var tracked = keys[random.Next(keys.Length)];
            var node = nodes[random.Next(nodes.Count)];
            var start = Stopwatch.GetTimestamp();
            if (random.Next(2) == 0)
            {
                var next = tracked.Attempted + 1;
                tracked.Attempted = next;
                try
                {
                    await node.Coordinator.Cache.SetAsync(tracked.Id, next, cancellationToken: cancellationToken);
                    tracked.Acknowledged = next;
                    recorder.Current.Success(start);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    tracked.Failed.Add(next);
                    recorder.Failure(start, "cache set", ex);
                    await Delay(5, cancellationToken);
                }
            }
            else
            {
                try
                {
                    _ = await node.Coordinator.Cache.GetAsync<long>(tracked.Id, cancellationToken);
                    recorder.Current.Success(start);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    recorder.Failure(start, "cache get", ex);
                    await Delay(5, cancellationToken);
                }
            }

            await Delay(1, cancellationToken);
        }
    }

    private static async Task Delay(int milliseconds, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
