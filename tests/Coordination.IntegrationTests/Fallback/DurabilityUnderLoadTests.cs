using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.IntegrationTests.Fallback;

/// <summary>
/// Redis killed (-9) and restarted without persistence under 64 writers, every write a new key: afterwards every
/// acknowledged write is read back. With <see cref="KeyValueDurability.Synchronous"/>, every one; with the default
/// asynchronous copy, every one acknowledged earlier than the mirror bound before the kill (docs/reliability.md).
/// </summary>
public sealed class DurabilityUnderLoadTests(PostgresFixture postgres)
{
    private const int Writers = 64;

    /// <summary>The bound docs/reliability.md states for the asynchronous copy while the mirror keeps up.</summary>
    private static readonly TimeSpan MirrorBound = TimeSpan.FromSeconds(1);

    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(KeyValueDurability.Asynchronous)]
    [InlineData(KeyValueDurability.Synchronous)]
    public async Task RedisKilledAndRestartedEmpty_Under64Writers_NoAcknowledgedWriteLost(KeyValueDurability durability)
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var redis = await RedisServer.StartAsync(Token);
        var schema = TestKeys.NewSchema();
        await using var host = await CoordinationTestHost.StartWithReadyFallbackAsync(redis, pg, schema);

        // Paced below what the mirror drains on this machine (docs/benchmarks-durability.md), so that no write is
        // dropped from a full queue: the bound is stated for a mirror that keeps up, and the test checks that premise.
        var pause = TimeSpan.FromMilliseconds(20);
        var acknowledged = new ConcurrentBag<(string Key, long At)>();
        var failures = new ConcurrentQueue<Exception>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Token);
        async Task WriteAsync(int writer)
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                var key = $"w-{writer}-{n}";
                try
                {
                    await host.Coordinator.SetAsync(key, n, TimeSpan.FromMinutes(10), durability, CancellationToken.None);
                    acknowledged.Add((key, Stopwatch.GetTimestamp()));
                }
#pragma warning disable CA1031 // Not acknowledged: counted, and not expected back.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    failures.Enqueue(ex);
                }

                await Task.Delay(pause, CancellationToken.None);
            }
        }

        var writers = Enumerable.Range(0, Writers).Select(w => Task.Run(() => WriteAsync(w), CancellationToken.None)).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(3), Token);
        var droppedBeforeKill = (await host.Monitor.GetStatusAsync(Token)).Fallback.MirrorDroppedWrites;
        var killedAt = Stopwatch.GetTimestamp();
        await redis.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        await redis.RestartAsync(Token);
        await Task.Delay(TimeSpan.FromSeconds(2), Token);
        await stop.CancelAsync();
        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(30), Token);

        // Read back once the node is served by Redis again: while it is on the fallback, PostgreSQL answers anyway.
        await ProcessUtil.WaitUntilAsync(
            async () => (await host.Monitor.GetStatusAsync(Token)).Fallback is { Active: false, MirrorBacklog: 0 },
            TimeSpan.FromSeconds(30),
            "the node to be served by Redis again",
            Token);

        var expected = acknowledged
            .Where(a => durability == KeyValueDurability.Synchronous || a.At > killedAt || Stopwatch.GetElapsedTime(a.At, killedAt) > MirrorBound)
            .Select(a => a.Key)
            .ToArray();
        var lost = await MissingAsync(host.Coordinator, expected, TimeSpan.FromSeconds(30));

        TestContext.Current.TestOutputHelper!.WriteLine(
            $"[measure] {durability}: {acknowledged.Count} acknowledged ({acknowledged.Count(a => a.At < killedAt)} before the kill), {failures.Count} refused, {expected.Length} checked, {lost.Count} lost: {string.Join(", ", lost.Take(5))}");
        Assert.Equal(0, droppedBeforeKill);
        Assert.True(acknowledged.Count(a => a.At < killedAt) > 1_000, "Too few writes before the kill to prove anything.");
        Assert.Empty(lost);
    }

    /// <summary>The keys not readable (with their value) after <paramref name="within"/>, read again until then.</summary>
    private static async Task<List<string>> MissingAsync(IRedisCoordinator coordinator, string[] keys, TimeSpan within)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(within.TotalSeconds * Stopwatch.Frequency);
        var missing = keys.ToList();
        while (true)
        {
            var stillMissing = new ConcurrentBag<string>();
            await Parallel.ForEachAsync(missing, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = Token }, async (key, ct) =>
            {
                try
                {
                    var read = await coordinator.GetAsync<int>(key, ct);
                    if (!read.HasValue || read.Value != int.Parse(key[(key.LastIndexOf('-') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
                    {
                        stillMissing.Add(key);
                    }
                }
                catch (CoordinationUnavailableException)
                {
                    stillMissing.Add(key);
                }
            });
            missing = [.. stillMissing];
            if (missing.Count == 0 || Stopwatch.GetTimestamp() > deadline)
            {
                return missing;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), Token);
        }
    }
}
