using System.Collections.Concurrent;
using System.Diagnostics;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;
using Microsoft.Extensions.DependencyInjection;

namespace Coordination.IntegrationTests.Resilience;

/// <summary>
/// Calls through the resilience pipelines and the pool under real faults on a server of the test's own: a crash (SIGKILL and restart on the same port) and a hang (SIGSTOP /
/// SIGCONT). Calls must fail with <see cref="CoordinationUnavailableException"/> only, within bounded time, and the
/// coordinator must recover on its own. The measured numbers are written to the test output.
/// </summary>
[Collection(nameof(FaultTimingTests))]
public sealed class RedisExecutorTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    private static ITestOutputHelper Output => TestContext.Current.TestOutputHelper!;

    [Fact]
    public async Task Calls_RedisKilledAndRestartedUnderLoad_FailOnlyAsUnavailableWithinBoundAndRecover()
    {
        var maxCallLatency = TimeSpan.FromSeconds(3);
        const int Workers = 8;

        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var coordinator = host.Coordinator;

        // The client retries the connection with decorrelated jitter capped at ReconnectMaxDelay (default 2 s), on
        // its heartbeat: after a restart the next attempt can be up to that cap away. Allow 1 s on top of it for
        // the heartbeat tick, the handshake and a loaded machine.
        var maxRecovery = host.Options.Pool.ReconnectMaxDelay + TimeSpan.FromSeconds(1);

        var clock = Stopwatch.StartNew();
        var calls = new ConcurrentQueue<Call>();
        var unexpected = new ConcurrentQueue<Exception>();
        var wrongValues = new ConcurrentQueue<string>();
        using var stopLoad = CancellationTokenSource.CreateLinkedTokenSource(Token);
        stopLoad.CancelAfter(TimeSpan.FromSeconds(30)); // hard bound on the load, whatever happens below

        async Task WorkerAsync(int worker)
        {
            var iteration = 0;
            var lastSetSucceeded = false;
            while (!stopLoad.IsCancellationRequested)
            {
                iteration++;
                var slot = (iteration / 4) % 16;
                var key = $"w{worker}-{slot}";
                var started = clock.Elapsed;
                try
                {
                    switch (iteration % 4)
                    {
                        case 0:
                            lastSetSucceeded = false;
                            await coordinator.SetAsync(key, iteration, cancellationToken: CancellationToken.None);
                            lastSetSucceeded = true;
                            break;
                        case 1:
                            // Written by this worker only, one iteration ago: absent (lost with the crash) or a value this
                            // worker wrote to this slot earlier.
                            var read = await coordinator.GetAsync<int>(key, CancellationToken.None);
                            if (read.HasValue && (read.Value % 4 != 0 || (read.Value / 4) % 16 != slot || read.Value >= iteration
                                || (lastSetSucceeded && read.Value != iteration - 1)))
                            {
                                wrongValues.Enqueue($"{key}: read {read.Value} at iteration {iteration}");
                            }

                            break;
                        case 2:
                            // A Lua script: after the restart the server has no scripts cached (NOSCRIPT path).
                            await coordinator.GetWithTimeToLiveAsync<int>(key, CancellationToken.None);
                            break;
                        default:
                            // Lock calls are not retried and never served by a fallback.
                            if (await coordinator.LockAsync($"w{worker}", TimeSpan.FromSeconds(5), CancellationToken.None))
                            {
                                await coordinator.UnlockAsync($"w{worker}", CancellationToken.None);
                            }

                            break;
                    }

                    calls.Enqueue(new Call(started, clock.Elapsed, null));
                }
                catch (CoordinationUnavailableException ex)
                {
                    calls.Enqueue(new Call(started, clock.Elapsed, ex.Reason));
                }
#pragma warning disable CA1031 // Any other exception type is a failure of the contract, collected and asserted on.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    unexpected.Enqueue(ex);
                    calls.Enqueue(new Call(started, clock.Elapsed, null, Unexpected: true));
                }

                try
                {
                    await Task.Delay(1, stopLoad.Token);
                }
                catch (OperationCanceledException)
                {
                }
            }
        }

        var load = Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkerAsync(w), CancellationToken.None)).ToArray();

        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        var killedAt = clock.Elapsed;
        await redis.KillAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5), Token);
        await redis.RestartAsync(Token);
        var restartedAt = clock.Elapsed;

        // Recovery: the first call that started after the restart and succeeded.
        await ProcessUtil.WaitUntilAsync(
            () => calls.Any(c => c.Succeeded && c.Started >= restartedAt),
            TimeSpan.FromSeconds(20),
            "a successful call after the restart",
            Token);
        var recoveredAt = calls.Where(c => c.Succeeded && c.Started >= restartedAt).Min(c => c.Ended);

        await Task.Delay(TimeSpan.FromSeconds(1), Token);
        var steadyFrom = clock.Elapsed;
        await Task.Delay(TimeSpan.FromSeconds(0.5), Token);
        await stopLoad.CancelAsync();
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(10), Token);

        var all = calls.ToArray();
        var failures = all.Where(c => c.Reason is not null).ToArray();
        var latencies = all.Select(c => (c.Ended - c.Started).TotalMilliseconds).ToArray();
        var recovery = recoveredAt - restartedAt;
        var firstFailure = failures.Length > 0 ? failures.Min(c => c.Ended) - killedAt : TimeSpan.Zero;
        Output.WriteLine($"[measure] kill+restart: calls={all.Length} ok={all.Count(c => c.Succeeded)} unavailable={failures.Length} other={unexpected.Count}");
        Output.WriteLine($"[measure] kill+restart: unavailable by reason: {string.Join(", ", failures.GroupBy(f => f.Reason).Select(g => $"{g.Key}={g.Count()}"))}");
        Output.WriteLine($"[measure] kill+restart: first failure {firstFailure.TotalMilliseconds:F0} ms after kill; outage (kill to restart) {(restartedAt - killedAt).TotalMilliseconds:F0} ms");
        Output.WriteLine($"[measure] kill+restart: recovery (restart to first success) {recovery.TotalMilliseconds:F0} ms");
        Output.WriteLine($"[measure] kill+restart: call latency p50={Latency.Format(Latency.Percentile(latencies, 50))} p99={Latency.Format(Latency.Percentile(latencies, 99))} max={Latency.Format(latencies.Max())}");
        foreach (var ex in unexpected.Take(5))
        {
            Output.WriteLine($"[unexpected] {ex}");
        }

        Assert.Empty(unexpected);
        Assert.Empty(wrongValues);
        Assert.Contains(all, c => c.Succeeded && c.Ended < killedAt);
        Assert.Contains(all, c => c.Reason is not null);
        Assert.InRange(latencies.Max(), 0, maxCallLatency.TotalMilliseconds);
        Assert.InRange(recovery, TimeSpan.Zero, maxRecovery);

        // Recovered for good: nothing failed once it had settled.
        var late = all.Where(c => c.Started >= steadyFrom).ToArray();
        Assert.NotEmpty(late);
        Assert.All(late, c => Assert.True(c.Succeeded, $"a call at {c.Started} failed with {c.Reason}"));

        await coordinator.SetAsync("after", "recovered", cancellationToken: Token);
        Assert.Equal("recovered", (await coordinator.GetAsync<string>("after", Token)).Value);
    }

    [Fact]
    public async Task Circuit_OpenWhenRedisRestarts_RestoredConnectionEndsTheBreakLongBeforeItsTimer()
    {
        // A break of a minute: without the restored connection ending it, no call could succeed within this test.
        var breakDuration = TimeSpan.FromMinutes(1);
        var maxResumeAfterReconnect = TimeSpan.FromSeconds(1);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings:
            [
                new("Coordination:Resilience:MinimumThroughput", "5"),
                new("Coordination:Resilience:BreakDuration", breakDuration.ToString()),
            ]);
        var coordinator = host.Coordinator;
        var opened = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var restoredAt = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Events.CircuitOpened += (_, _) => opened.TrySetResult();
        await coordinator.SetAsync("k", "v", cancellationToken: Token);

        await redis.KillAsync();
        var clock = Stopwatch.StartNew();
        while (!opened.Task.IsCompleted)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "The circuit did not open within 15 s of Redis dying.");
            await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await coordinator.GetAsync<string>("k", Token));
        }

        var refused = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await coordinator.GetAsync<string>("k", Token));
        Assert.Equal(UnavailableReason.CircuitOpen, refused.Reason);
        host.Events.ConnectionRestored += (_, _) => restoredAt.TrySetResult(Stopwatch.GetTimestamp());
        await redis.RestartAsync(Token);
        var reconnected = await restoredAt.Task.WaitAsync(TimeSpan.FromSeconds(15), Token);

        long servedAt = 0;
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await coordinator.SetAsync("k", "again", cancellationToken: Token);
                    servedAt = Stopwatch.GetTimestamp();
                    return true;
                }
                catch (CoordinationUnavailableException)
                {
                    return false;
                }
            },
            breakDuration / 2,
            "a call served after the connection was restored",
            Token,
            TimeSpan.FromMilliseconds(10));

        var resumed = Stopwatch.GetElapsedTime(reconnected, servedAt);
        Output.WriteLine($"[measure] restored connection to first served call: {resumed.TotalMilliseconds:F0} ms (break {breakDuration.TotalSeconds:F0} s)");
        Assert.InRange(resumed, TimeSpan.Zero, maxResumeAfterReconnect);
        Assert.Equal(CircuitState.Closed, (await host.Monitor.GetStatusAsync(Token)).Circuit);
    }

    [Fact]
    public async Task Calls_RedisPaused_TimeOutThenCircuitOpensFailsFastAndClosesAfterResume()
    {
        var maxCloseAfterResume = TimeSpan.FromSeconds(5);
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings:
            [
                new("Coordination:Resilience:AttemptTimeout", "00:00:00.200"),
                new("Coordination:Resilience:MinimumThroughput", "5"),
                new("Coordination:Resilience:BreakDuration", "00:00:01"),
                new("Coordination:Health:ProbeTimeout", "00:00:00.250"),
            ]);
        var coordinator = host.Coordinator;
        var opened = new TaskCompletionSource<CircuitEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        var closed = new TaskCompletionSource<CircuitEventArgs>(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Events.CircuitOpened += (_, e) => opened.TrySetResult(e);
        host.Events.CircuitClosed += (_, e) => closed.TrySetResult(e);

        await coordinator.SetAsync("k", "v", cancellationToken: Token);
        Assert.Equal(CircuitState.Closed, (await host.Monitor.GetStatusAsync(Token)).Circuit);

        await redis.PauseAsync();
        var timeouts = new List<double>();
        var clock = Stopwatch.StartNew();
        while (!opened.Task.IsCompleted)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "The circuit did not open within 15 s of Redis hanging.");
            var started = Stopwatch.GetTimestamp();
            var error = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await coordinator.GetAsync<string>("k", Token));
            var elapsed = Stopwatch.GetElapsedTime(started);
            Assert.True(error.Reason is UnavailableReason.Timeout or UnavailableReason.CircuitOpen, $"unexpected reason {error.Reason}");
            if (error.Reason == UnavailableReason.Timeout)
            {
                timeouts.Add(elapsed.TotalMilliseconds);
            }
        }

        var openedArgs = await opened.Task;
        var openedAt = Stopwatch.GetTimestamp();
        Assert.Equal(CircuitState.Open, openedArgs.State);
        Assert.Equal(TimeSpan.FromSeconds(1), openedArgs.BreakDuration);
        Assert.NotEmpty(timeouts);
        Assert.All(timeouts, t => Assert.InRange(t, 180, 1500));

        // Open circuit: calls are refused without touching Redis.
        var failFast = new double[1000];
        var reasons = new Dictionary<UnavailableReason, int>();
        for (var i = 0; i < failFast.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await coordinator.GetAsync<string>("k", Token);
                Assert.Fail("A call succeeded while Redis was paused.");
            }
            catch (CoordinationUnavailableException ex)
            {
                failFast[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                reasons[ex.Reason] = reasons.GetValueOrDefault(ex.Reason) + 1;
            }
        }

        var status = await host.Monitor.GetStatusAsync(Token);
        var p50 = Latency.Percentile(failFast, 50);
        var p99 = Latency.Percentile(failFast, 99);
        Output.WriteLine($"[measure] pause: attempts timed out in {string.Join(", ", timeouts.Select(Latency.Format))} before the circuit opened");
        Output.WriteLine($"[measure] pause: open-circuit fail-fast over {failFast.Length} calls p50={Latency.Format(p50)} p99={Latency.Format(p99)} max={Latency.Format(failFast.Max())}; reasons {string.Join(", ", reasons.Select(r => $"{r.Key}={r.Value}"))}");

        Assert.InRange(p50, 0, 0.5);
        Assert.InRange(p99, 0, 5);
        Assert.True(reasons.GetValueOrDefault(UnavailableReason.CircuitOpen) >= 990, "nearly every call must be refused by the open circuit");
        Assert.False(status.Connected);
        Assert.Equal(CircuitState.Open, status.Circuit);
        Assert.False(closed.Task.IsCompleted);

        await redis.ResumeAsync();
        var resumedAt = Stopwatch.GetTimestamp();
        var openBeforeResume = Stopwatch.GetElapsedTime(openedAt, resumedAt);
        while (!closed.Task.IsCompleted)
        {
            Assert.True(Stopwatch.GetElapsedTime(resumedAt) < TimeSpan.FromSeconds(15), "The circuit did not close within 15 s of Redis resuming.");
            try
            {
                await coordinator.GetAsync<string>("k", Token);
            }
            catch (CoordinationUnavailableException)
            {
            }

            await Task.Delay(20, Token);
        }

        var closeTime = Stopwatch.GetElapsedTime(resumedAt);
        Output.WriteLine($"[measure] pause: circuit closed {closeTime.TotalMilliseconds:F0} ms after SIGCONT (it had been open {openBeforeResume.TotalMilliseconds:F0} ms of its 1 s break when Redis resumed)");
        Assert.InRange(closeTime, TimeSpan.Zero, maxCloseAfterResume);
        Assert.Equal(CircuitState.Closed, (await closed.Task).State);
        Assert.Equal("v", (await coordinator.GetAsync<string>("k", Token)).Value);
        var after = await host.Monitor.GetStatusAsync(Token);
        Assert.True(after.Connected);
        Assert.Equal(CircuitState.Closed, after.Circuit);
    }

    [Fact]
    public async Task StartAsync_RedisNotRunningYet_HostStartsAndConnectsOnceRedisIsUp()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await redis.KillAsync();

        var starting = Stopwatch.GetTimestamp();
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var startTime = Stopwatch.GetElapsedTime(starting);

        // A Redis that is late does not fail the host's start, and does not hold it beyond the connect timeout.
        Assert.InRange(startTime, TimeSpan.Zero, host.Options.Pool.ConnectTimeout + TimeSpan.FromSeconds(2));
        var error = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.GetAsync<string>("k", Token));
        Assert.Equal(UnavailableReason.ConnectionFailed, error.Reason);
        Assert.False((await host.Monitor.GetStatusAsync(Token)).Connected);

        await redis.RestartAsync(Token);
        var upAt = Stopwatch.GetTimestamp();
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await host.Coordinator.SetAsync("k", "v", cancellationToken: Token);
                    return true;
                }
                catch (CoordinationUnavailableException)
                {
                    return false;
                }
            },
            host.Options.Pool.ReconnectMaxDelay + host.Options.Resilience.BreakDuration + TimeSpan.FromSeconds(2),
            "the first successful call after Redis came up",
            Token);
        Output.WriteLine($"[measure] cold start: host started in {startTime.TotalMilliseconds:F0} ms without Redis; first success {Stopwatch.GetElapsedTime(upAt).TotalMilliseconds:F0} ms after Redis came up");
        Assert.Equal("v", (await host.Coordinator.GetAsync<string>("k", Token)).Value);
    }

    // Successes skip the pipelines while nothing fails (they cost several times the call under load), so the breaker
    // samples from the first failure on: a long quiet stretch does not dilute an outage that follows it.
    [Fact]
    public async Task Calls_OutageAfterManySuccesses_OpenCircuitAfterMinimumThroughputFailures()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings:
            [
                new("Coordination:Resilience:MaxRetryAttempts", "0"),
                new("Coordination:Resilience:MinimumThroughput", "10"),
                new("Coordination:Resilience:FailureRatio", "0.5"),
                new("Coordination:Resilience:SamplingDuration", "00:00:30"),
                new("Coordination:Resilience:BreakDuration", "00:00:30"),
            ]);
        await host.Coordinator.SetAsync("k", "v", cancellationToken: Token);
        for (var i = 0; i < 2_000; i++)
        {
            Assert.Equal("v", (await host.Coordinator.GetAsync<string>("k", Token)).Value);
        }

        await redis.KillAsync();
        var failures = 0;
        CoordinationUnavailableException last;
        do
        {
            last = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () => await host.Coordinator.GetAsync<string>("k", Token));
            failures += last.Reason == UnavailableReason.CircuitOpen ? 0 : 1;
        }
        while (last.Reason != UnavailableReason.CircuitOpen && failures < 5_000);

        Output.WriteLine($"failures before the circuit opened, after 2,000 successes: {failures}");
        Assert.Equal(10, failures);
        Assert.Equal(CircuitState.Open, host.Executor.CircuitState);
    }

    [Fact]
    public async Task GetAsync_CancelledWhileRedisHangs_ThrowsOperationCanceledPromptly()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(
            redis.ConnectionString,
            settings: [new("Coordination:Resilience:AttemptTimeout", "00:00:05")]);
        await host.Coordinator.SetAsync("k", "v", cancellationToken: Token);

        await redis.PauseAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Token);
        cancel.CancelAfter(TimeSpan.FromMilliseconds(200));
        var started = Stopwatch.GetTimestamp();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await host.Coordinator.GetAsync<string>("k", cancel.Token));
        var elapsed = Stopwatch.GetElapsedTime(started);
        await redis.ResumeAsync();

        Assert.InRange(elapsed, TimeSpan.FromMilliseconds(150), TimeSpan.FromSeconds(1));

        // A caller's cancellation is not a Redis failure: it does not count against the circuit.
        Assert.Equal(CircuitState.Closed, host.Executor.CircuitState);
        Assert.Equal("v", (await host.Coordinator.GetAsync<string>("k", Token)).Value);
    }

    // The hot script calls send EVALSHA alone; a server without the scripts (SCRIPT FLUSH, a restart, a new node)
    // answers NOSCRIPT, and the executor loads every script and sends the call again, invisibly to the caller.
    [Fact]
    public async Task ScriptCalls_ScriptsFlushedFromServer_LoadedAgainAndSucceed()
    {
        await using var redis = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(redis.ConnectionString);
        var admin = (await redis.GetAdminAsync()).GetServers()[0];
        var locks = host.Services.GetRequiredService<IDistributedLockManager>();
        var holds = (RedisKey)host.RedisKey("flushed", "lock");

        await admin.ScriptFlushAsync();
        var first = await locks.AcquireAsync("flushed", cancellationToken: Token);
        Assert.Equal(RedisType.String, await admin.Multiplexer.GetDatabase().KeyTypeAsync(holds));
        foreach (var script in RedisScript.All)
        {
            Assert.True(await admin.ScriptExistsAsync(script.Source), $"{script.Name}: loading after NOSCRIPT loads every script, not only the one that was missing.");
        }

        await admin.ScriptFlushAsync();
        await first.ReleaseAsync(Token);
        Assert.False(await admin.Multiplexer.GetDatabase().KeyExistsAsync(holds));

        await admin.ScriptFlushAsync();
        await using var second = await locks.AcquireAsync("flushed", cancellationToken: Token);
        Assert.True(second.FencingToken > first.FencingToken);
        await admin.ScriptFlushAsync();
        await second.ExtendAsync(TimeSpan.FromSeconds(20), Token);
        await admin.ScriptFlushAsync();
        var info = await locks.GetInfoAsync("flushed", Token);
        Assert.Equal(second.FencingToken, Assert.Single(info!.Holders).FencingToken);

        await admin.ScriptFlushAsync();
        await host.Coordinator.SetAsync("k", "v", TimeSpan.FromSeconds(30), cancellationToken: Token);
        Assert.Equal("v", (await host.Coordinator.GetWithTimeToLiveAsync<string>("k", Token)).Value);
        Assert.Equal(CircuitState.Closed, host.Executor.CircuitState);
    }

    private sealed record Call(TimeSpan Started, TimeSpan Ended, UnavailableReason? Reason, bool Unexpected = false)
    {
        public bool Succeeded => Reason is null && !Unexpected;
    }
}
