using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Hosting;

namespace Coordination.IntegrationTests.Caching;

/// <summary>Write-behind through <see cref="IBackedCache"/>: batching, flush, shutdown, retries and backpressure, writing to a real PostgreSQL table.</summary>
public sealed class WriteBehindTests(SharedRedisFixture redis, PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    private async Task<ItemTable> TableAsync() =>
        await ItemTable.CreateAsync(await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token), Token);

    [Fact]
    public async Task StopHost_2000AcknowledgedWrites_EveryOneIsInPostgres()
    {
        await using var table = await TableAsync();
        var prefix = TestKeys.NewPrefix();
        await using var host = await StrategyHost.StartAsync(redis.ConnectionString, prefix, c => c
            .WithWriteBehind<int>("order:", table.UpsertAsync, o =>
            {
                o.BatchSize = 250;
                o.FlushInterval = TimeSpan.FromMinutes(10); // only full batches and the shutdown write anything
                o.Capacity = 5000;
            }));

        var writes = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(async () =>
        {
            for (var i = worker; i < 2000; i += 8)
            {
                await host.Backed.SetAsync($"order:{i}", i, Token);
            }
        }, Token)));
        var acknowledgedIn = writes.Elapsed;
        var cached = await host.Backed.GetAsync<int>("order:1999", Token);
        var pendingAtStop = host.Backed.PendingWrites;

        var stop = Stopwatch.StartNew();
        await host.StopAsync();
        var stoppedIn = stop.Elapsed;
        var rows = await table.ReadAllAsync(Token);

        Output.WriteLine($"[measure] write-behind: 2000 writes acknowledged (8 callers) in {acknowledgedIn.TotalMilliseconds:F0} ms; {pendingAtStop} pending at stop; host stop (flush + shutdown) {stoppedIn.TotalMilliseconds:F0} ms; {table.WriteCalls} writer calls");
        Assert.Equal((1999, CacheSource.Memory), (cached.Value, cached.Source)); // applied to the cache at once
        Assert.Equal(2000, rows.Count);
        Assert.All(Enumerable.Range(0, 2000), i => Assert.Equal(i, rows[$"order:{i}"]));
        Assert.InRange(table.WriteCalls, 8, 20); // batches of up to 250, not one call per write
        Assert.Equal(0, host.Backed.PendingWrites);
        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.Backed.SetAsync("order:late", 1, Token).AsTask());
    }

    [Fact]
    public async Task FlushAsync_WriterFailingForAWhile_RetriesAndLosesNothing()
    {
        await using var table = await TableAsync();
        var failures = 0;
        var failUntil = DateTime.UtcNow.AddMilliseconds(600);
        await using var host = await StrategyHost.StartAsync(redis.ConnectionString, TestKeys.NewPrefix(), c => c
            .WithWriteBehind<int>("acct:", async (writes, ct) =>
            {
                if (DateTime.UtcNow < failUntil)
                {
                    Interlocked.Increment(ref failures);
                    throw new TimeoutException("PostgreSQL is failing over");
                }

                await table.UpsertAsync(writes, ct);
            }, o =>
            {
                o.BatchSize = 50;
                o.FlushInterval = TimeSpan.FromMilliseconds(20);
                o.RetryDelay = TimeSpan.FromMilliseconds(50);
                o.MaxRetryDelay = TimeSpan.FromMilliseconds(200);
            }));

        for (var i = 0; i < 300; i++)
        {
            // Every key written twice: the second value must win in the store.
            await host.Backed.SetAsync($"acct:{i % 150}", i, Token);
        }

        var pendingWhileFailing = host.Backed.PendingWrites;
        var flush = Stopwatch.StartNew();
        await host.Backed.FlushAsync(Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Token);
        var flushedIn = flush.Elapsed;
        var rows = await table.ReadAllAsync(Token);

        Output.WriteLine($"[measure] write-behind with a writer failing for 600 ms: {failures} failed attempts, {pendingWhileFailing} pending after the writes, flush returned after {flushedIn.TotalMilliseconds:F0} ms");
        Assert.True(failures >= 2, $"the writer failed {failures} times");
        Assert.True(pendingWhileFailing > 0);
        Assert.Equal(0, host.Backed.PendingWrites);
        Assert.Equal(150, rows.Count);
        Assert.All(Enumerable.Range(0, 150), i => Assert.Equal(i + 150, rows[$"acct:{i}"]));
    }

    [Fact]
    public async Task SetAsync_QueueFull_WaitsForRoomInsteadOfDropping()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var written = new List<int>();
        await using var host = await StrategyHost.StartAsync(redis.ConnectionString, TestKeys.NewPrefix(), c => c
            .WithWriteBehind<int>("q:", async (writes, ct) =>
            {
                entered.TrySetResult();
                await gate.Task.WaitAsync(ct);
                lock (written)
                {
                    written.AddRange(writes.Select(w => w.Value));
                }
            }, o =>
            {
                o.BatchSize = 5;
                o.Capacity = 5;
                o.FlushInterval = TimeSpan.FromSeconds(30); // batches leave by size only
            }));

        // The loop holds one batch of 5 in the blocked writer; the queue holds 5 more; the 11th write must wait.
        for (var i = 0; i < 10; i++)
        {
            await host.Backed.SetAsync($"q:{i}", i, Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Token);
            if (i == 4)
            {
                await entered.Task.WaitAsync(TimeSpan.FromSeconds(5), Token); // the first batch is out of the queue
            }
        }

        var eleventh = host.Backed.SetAsync("q:10", 10, Token).AsTask();
        await Task.Delay(300, Token);
        var blocked = !eleventh.IsCompleted;
        gate.SetResult();
        await eleventh.WaitAsync(TimeSpan.FromSeconds(5), Token);
        await host.Backed.FlushAsync(Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Token);

        Assert.True(blocked, "the 11th write returned while the queue was full");
        Assert.Equal(Enumerable.Range(0, 11), written); // all of them, in order
    }

    [Fact]
    public async Task FlushAsync_LongInterval_WritesAtOnce()
    {
        var batches = new List<int>();
        await using var host = await StrategyHost.StartAsync(redis.ConnectionString, TestKeys.NewPrefix(), c => c
            .WithWriteBehind<string>("f:", (writes, _) =>
            {
                lock (batches)
                {
                    batches.Add(writes.Count);
                }

                return ValueTask.CompletedTask;
            }, o => o.FlushInterval = TimeSpan.FromMinutes(5)));

        await host.Backed.SetAsync("f:1", "a", Token);
        await host.Backed.SetAsync("f:2", "b", Token);
        await host.Backed.SetAsync("f:3", "c", Token);
        var stopwatch = Stopwatch.StartNew();
        await host.Backed.FlushAsync(Token).AsTask().WaitAsync(TimeSpan.FromSeconds(5), Token);
        Output.WriteLine($"[measure] write-behind FlushAsync of 3 writes: {stopwatch.Elapsed.TotalMilliseconds:F2} ms");

        Assert.Equal([3], batches);
        Assert.Equal(0, host.Backed.PendingWrites);
        Assert.Throws<System.ComponentModel.DataAnnotations.ValidationException>(() => Host.CreateApplicationBuilder().AddCoordination()
            .WithWriteBehind<int>("x:", (_, _) => ValueTask.CompletedTask, o => o.BatchSize = 0));
    }
}
