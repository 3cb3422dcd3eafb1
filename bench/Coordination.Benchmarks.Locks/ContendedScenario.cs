using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Coordination.Benchmarks.Locks;

/// <summary>
/// N waiters in this process on ONE lock name, each in a loop: acquire (waiting up to the wait timeout), hold it
/// for a little work, release, and at once ask again. Every variant runs twice for half the duration (forward
/// order, then reverse), after a warm-up round. When a round's time is up, the waits still running are cancelled
/// and reported as unfinished (with how long they had waited), so a starved waiter is not silently dropped.
/// </summary>
internal sealed class ContendedScenario(LockBenchSettings settings, IReadOnlyList<ILockClient> variants, IServer server)
{
    // Waits that began in the first moments of a round come from the start-up burst (all waiters at once), where the
    // order of the client-side start times says little about the order of arrival at Redis.
    private static readonly TimeSpan StartupBurst = TimeSpan.FromMilliseconds(250);

    public const int CancelledWaiters = 5;

    public async Task<List<ContendedResult>> RunAsync(CancellationToken cancellationToken)
    {
        var results = variants.Select(v => new ContendedResult(v.Name, settings.Waiters)).ToArray();
        Console.WriteLine($"Contended: {settings.Waiters} waiters on one name, {settings.Hold.TotalMicroseconds:0} µs of work per hold, {settings.ContendedDuration.TotalSeconds:0.#} s per variant");
        var forward = Enumerable.Range(0, variants.Count).ToArray();
        int[][] rounds = [forward, [.. forward.Reverse()]];
        for (var round = 0; round < rounds.Length; round++)
        {
            foreach (var index in rounds[round])
            {
                if (round == 0)
                {
                    var warmup = string.Create(CultureInfo.InvariantCulture, $"contended-{index}-warmup");
                    await RunRoundAsync(variants[index], warmup, settings.Warmup, cancellationToken);
                    results[index].AfterCancelledWaiters = await NewcomerAfterCancelledWaitersAsync(variants[index], $"cancelled-{index}", cancellationToken);
                }

                var name = string.Create(CultureInfo.InvariantCulture, $"contended-{index}-{round}");
                results[index].AddRound(await RunRoundAsync(variants[index], name, settings.ContendedDuration / rounds.Length, cancellationToken));
            }
        }

        foreach (var result in results)
        {
            Console.WriteLine($"  {result.Variant,-40} {result.AcquisitionsPerSecond,7:N0} acq/s  {result.HandOffsPerSecond,7:N0} hand-offs/s  wait p50 {result.Waits.Percentile(0.5) / 1000,7:N1} ms  p99 {result.Waits.Percentile(0.99) / 1000,7:N1} ms  max {result.LongestWaitMicroseconds / 1000,7:N1} ms");
        }

        return [.. results];
    }

    /// <summary>
    /// While one caller holds the lock, <see cref="CancelledWaiters"/> waiters ask for it and are cancelled at once (so
    /// the cancellation meets their first attempt in flight); then the holder releases and a newcomer asks with the
    /// same options. Returns how long the newcomer waited for the free lock (null: its wait timed out).
    /// </summary>
    private async Task<TimeSpan?> NewcomerAfterCancelledWaitersAsync(ILockClient client, string name, CancellationToken cancellationToken)
    {
        // Each step in its own flow: ours treats one async flow as one owner (re-entrant).
        var holder = await Task.Run(async () => await client.AcquireAsync(name, settings.WaitTimeout, cancellationToken), cancellationToken)
            ?? throw new InvalidOperationException($"{client.Name} could not take a free lock.");
        for (var i = 0; i < CancelledWaiters; i++)
        {
            await Task.Run(
                async () =>
                {
                    using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    var waiting = client.AcquireAsync(name, settings.WaitTimeout, cancel.Token);
                    await cancel.CancelAsync();
                    try
                    {
                        if (await waiting is { } unexpected)
                        {
                            await unexpected.DisposeAsync();
                        }
                    }
                    catch (OperationCanceledException) when (cancel.IsCancellationRequested)
                    {
                    }
                },
                cancellationToken);
        }

        await holder.DisposeAsync();
        return await Task.Run(
            async () =>
            {
                var started = Stopwatch.GetTimestamp();
                var handle = await client.AcquireAsync(name, settings.WaitTimeout, cancellationToken);
                var elapsed = Stopwatch.GetElapsedTime(started);
                if (handle is null)
                {
                    return (TimeSpan?)null;
                }

                await handle.DisposeAsync();
                return elapsed;
            },
            cancellationToken);
    }

    private async Task<ContendedRound> RunRoundAsync(ILockClient client, string name, TimeSpan duration, CancellationToken cancellationToken)
    {
        var holdTicks = (long)(settings.Hold.TotalSeconds * Stopwatch.Frequency);
        var grants = new List<Grant>(65_536);
        var unfinished = new List<long>();
        var gate = new Lock();
        var holders = 0;
        long overlaps = 0, timeouts = 0, errors = 0;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var statsBefore = await RedisStats.ReadAsync(server);
        var started = Stopwatch.GetTimestamp();
        var stopAt = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var steadyFrom = started + (long)(StartupBurst.TotalSeconds * Stopwatch.Frequency);
        stop.CancelAfter(duration);
        var waiters = Enumerable.Range(0, settings.Waiters).Select(waiter => Task.Run(
            async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var waitStarted = Stopwatch.GetTimestamp();
                    IAsyncDisposable? handle;
                    try
                    {
                        handle = await client.AcquireAsync(name, settings.WaitTimeout, stop.Token);
                    }
                    catch (OperationCanceledException) when (stop.IsCancellationRequested)
                    {
                        lock (gate)
                        {
                            unfinished.Add(stopAt - waitStarted);
                        }

                        break;
                    }
#pragma warning disable CA1031 // A failed call is counted, not fatal: the report shows the error count.
                    catch (Exception)
#pragma warning restore CA1031
                    {
                        Interlocked.Increment(ref errors);
                        continue;
                    }

                    var granted = Stopwatch.GetTimestamp();
                    if (handle is null)
                    {
                        Interlocked.Increment(ref timeouts);
                        continue;
                    }

                    try
                    {
                        if (Interlocked.Increment(ref holders) != 1)
                        {
                            Interlocked.Increment(ref overlaps);
                        }

                        if (granted < stopAt)
                        {
                            lock (gate)
                            {
                                grants.Add(new Grant(waiter, waitStarted, granted, (handle as ILockHandle)?.FencingToken));
                            }
                        }

                        // The critical section: a little CPU-bound work.
                        var until = granted + holdTicks;
                        while (Stopwatch.GetTimestamp() < until)
                        {
                            Thread.SpinWait(20);
                        }

                        Interlocked.Decrement(ref holders);
                    }
                    finally
                    {
                        await handle.DisposeAsync();
                    }
                }
            },
            CancellationToken.None)).ToArray();
        await Task.WhenAll(waiters);
        var elapsed = TimeSpan.FromSeconds((double)(stopAt - started) / Stopwatch.Frequency);
        var used = (await RedisStats.ReadAsync(server)).Since(statsBefore);

        // The list is in the order the waiters entered the critical section (one at a time while exclusion holds).
        return new ContendedRound(grants, unfinished, elapsed, steadyFrom, timeouts, errors, overlaps, used);
    }
}
