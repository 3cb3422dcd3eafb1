using System.Diagnostics;
using StackExchange.Redis;

namespace Coordination.Benchmarks;

/// <summary>
/// kill -9 of the server, a pause, a restart on the same port; from the moment of the restart, how long until the
/// raw multiplexer and the coordinator serve a call again. Both are under light traffic (one call per millisecond)
/// the whole time, so the coordinator's circuit breaker takes part as it would in a live service.
/// </summary>
internal sealed class ReconnectScenario(
    BenchmarkSettings settings,
    RedisServerProcess server,
    IConnectionMultiplexer raw,
    IRedisCoordinator coordinator,
    RedisExecutor executor,
    ICoordinationEvents events)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    public async Task RunAsync(Report report, CancellationToken cancellationToken)
    {
        var runs = new List<ReconnectRun>();
        for (var run = 1; run <= settings.ReconnectRuns; run++)
        {
            Console.WriteLine($"Reconnect run {run}/{settings.ReconnectRuns}: kill -9, {settings.Downtime.TotalMilliseconds:0} ms down, restart");
            runs.Add(await RunOnceAsync(cancellationToken));
            Console.WriteLine($"  {runs[^1]}");
        }

        report.SetReconnect(runs);
    }

    private async Task<ReconnectRun> RunOnceAsync(CancellationToken cancellationToken)
    {
        await WaitHealthyAsync(cancellationToken);

        // A fresh circuit (closed, failure statistics reset) for every run, so runs do not depend on each other.
        await executor.CircuitControl.CloseAsync(cancellationToken);
        var database = raw.GetDatabase();
        var circuitOpenings = 0;
        void OnOpened(object? sender, CircuitEventArgs e) => Interlocked.Increment(ref circuitOpenings);
        events.CircuitOpened += OnOpened;

        long restartedAt = 0;
        long rawFirstSuccess = 0, coordinatorFirstSuccess = 0, rawConnected = 0, poolConnected = 0;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Traffic: each client calls once a millisecond; the first success completed after the restart is kept.
        async Task TrafficAsync(Func<Task> call, Action<long> succeededAt)
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await call();
                    var now = Stopwatch.GetTimestamp();
                    var restart = Volatile.Read(ref restartedAt);
                    if (restart != 0 && now >= restart)
                    {
                        succeededAt(now);
                    }
                }
                catch (Exception ex) when (ex is RedisException or CoordinationUnavailableException || (ex is OperationCanceledException && stop.IsCancellationRequested))
                {
                }

                await PauseAsync();
            }
        }

        // Connection state, sampled every millisecond once the server has been restarted.
        async Task WatchAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                if (Volatile.Read(ref restartedAt) != 0)
                {
                    var now = Stopwatch.GetTimestamp();
                    if (raw.IsConnected)
                    {
                        Interlocked.CompareExchange(ref rawConnected, now, 0);
                    }

                    if (executor.Pool.ConnectedCount > 0)
                    {
                        Interlocked.CompareExchange(ref poolConnected, now, 0);
                    }
                }

                await PauseAsync();
            }
        }

        async Task PauseAsync()
        {
            try
            {
                await Task.Delay(1, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }

        var traffic = Task.WhenAll(
            Task.Run(() => TrafficAsync(() => database.StringGetAsync("bench:reconnect"), t => Interlocked.CompareExchange(ref rawFirstSuccess, t, 0)), CancellationToken.None),
            Task.Run(() => TrafficAsync(() => coordinator.GetAsync<string>("reconnect", stop.Token).AsTask(), t => Interlocked.CompareExchange(ref coordinatorFirstSuccess, t, 0)), CancellationToken.None));
        var watcher = Task.Run(WatchAsync, CancellationToken.None);

        var circuitBefore = executor.CircuitState;
        server.Kill();
        var killedAt = Stopwatch.GetTimestamp();

        // Both clients must have noticed the loss, or "reconnected" would mean nothing.
        await WaitUntilAsync(() => !raw.IsConnected && executor.Pool.ConnectedCount == 0, cancellationToken);
        var noticedMs = Stopwatch.GetElapsedTime(killedAt).TotalMilliseconds;
        var remaining = settings.Downtime - Stopwatch.GetElapsedTime(killedAt);
        if (remaining > TimeSpan.Zero)
        {
            await Task.Delay(remaining, cancellationToken);
        }

        var circuitAtRestart = executor.CircuitState;
        var restartTimestamp = Stopwatch.GetTimestamp();
        Volatile.Write(ref restartedAt, restartTimestamp);
        await server.RestartAsync(cancellationToken);
        var serverReady = Stopwatch.GetTimestamp();

        await WaitUntilAsync(
            () => Interlocked.Read(ref rawFirstSuccess) != 0 && Interlocked.Read(ref coordinatorFirstSuccess) != 0
                && Interlocked.Read(ref rawConnected) != 0 && Interlocked.Read(ref poolConnected) != 0,
            cancellationToken);
        await stop.CancelAsync();
        await traffic;
        await watcher;
        events.CircuitOpened -= OnOpened;

        double Ms(long timestamp) => (timestamp - restartTimestamp) * 1000.0 / Stopwatch.Frequency;
        return new ReconnectRun(
            noticedMs,
            circuitOpenings,
            circuitBefore,
            circuitAtRestart,
            Ms(serverReady),
            Ms(rawConnected),
            Ms(rawFirstSuccess),
            Ms(poolConnected),
            Ms(coordinatorFirstSuccess));
    }

    private async Task WaitHealthyAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Bound.TotalSeconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                await raw.GetDatabase().PingAsync();
                await coordinator.GetAsync<string>("reconnect", cancellationToken);
                if (executor.CircuitState == CircuitState.Closed)
                {
                    return;
                }
            }
            catch (Exception ex) when ((ex is RedisException or CoordinationUnavailableException) && Stopwatch.GetTimestamp() < deadline)
            {
            }

            if (Stopwatch.GetTimestamp() >= deadline)
            {
                throw new TimeoutException("The clients did not become healthy before a reconnect run.");
            }

            await Task.Delay(10, cancellationToken);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(Bound.TotalSeconds * Stopwatch.Frequency);
        while (!condition())
        {
            if (Stopwatch.GetTimestamp() >= deadline)
            {
                throw new TimeoutException($"Gave up after {Bound}.");
            }

            await Task.Delay(1, cancellationToken);
        }
    }
}

internal sealed record ReconnectRun(
    double LossNoticedMs,
    int CircuitOpenings,
    CircuitState CircuitBeforeKill,
    CircuitState CircuitAtRestart,
    double ServerReadyMs,
    double RawConnectedMs,
    double RawFirstSuccessMs,
    double PoolConnectedMs,
    double CoordinatorFirstSuccessMs);
