using System.Collections.Concurrent;
using System.Diagnostics;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// The load of the failover tests: workers alternately setting and getting keys of their own through one coordinator
/// until stopped (at most a minute). Records every call (start, end, outcome on <see cref="Clock"/>), the last value
/// acknowledged per key, and any exception other than <see cref="CoordinationUnavailableException"/>.
/// </summary>
public sealed class FailoverLoad : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new(TimeSpan.FromMinutes(1));
    private readonly Task[] _workers;
    private readonly FailoverSettle _settle;

    private FailoverLoad(IRedisCoordinator coordinator, ICoordinationEvents events, int workers, int keysPerWorker)
    {
        _settle = new FailoverSettle(events, Clock);
        _workers = [.. Enumerable.Range(0, workers).Select(w => Task.Run(() => RunAsync(coordinator, w, keysPerWorker), CancellationToken.None))];
    }

    public Stopwatch Clock { get; } = Stopwatch.StartNew();

    public ConcurrentQueue<(TimeSpan Started, TimeSpan Ended, bool Succeeded)> Calls { get; } = new();

    public ConcurrentDictionary<string, (int Value, TimeSpan At)> Acknowledged { get; } = new(StringComparer.Ordinal);

    public ConcurrentQueue<Exception> Unexpected { get; } = new();

    /// <summary>Every <see cref="CoordinationUnavailableException"/> a call failed with, by the call's start.</summary>
    public ConcurrentQueue<(TimeSpan Started, string Error)> Failures { get; } = new();

    /// <summary>Starts the workers on <paramref name="host"/>'s coordinator, noting its connection events.</summary>
    public static FailoverLoad Start(CoordinationTestHost host, int workers, int keysPerWorker) => new(host.Coordinator, host.Events, workers, keysPerWorker);

    /// <summary>See <see cref="FailoverSettle"/>.</summary>
    public Task<TimeSpan> WaitUntilSettledAsync(TimeSpan served, int killedPort, TimeSpan timeout, CancellationToken cancellationToken) =>
        _settle.WaitUntilSettledAsync(served, killedPort, timeout, cancellationToken);

    /// <summary>The end of the first call that started after <paramref name="after"/> and succeeded, if any.</summary>
    public TimeSpan? FirstSuccessAfter(TimeSpan after) =>
        Calls.Where(c => c.Succeeded && c.Started > after).Select(c => (TimeSpan?)c.Ended).Min();

    /// <summary>Writes the connection changes and what failed: the unexpected exceptions, the failures by message, and those of calls started from <paramref name="settledAt"/> on.</summary>
    public void WriteFailures(ITestOutputHelper output, TimeSpan settledAt)
    {
        output.WriteLine($"[connections] {_settle.History}");
        foreach (var ex in Unexpected.Take(5))
        {
            output.WriteLine($"[unexpected] {ex}");
        }

        foreach (var group in Failures.GroupBy(f => f.Error.Length > 160 ? f.Error[..160] : f.Error).OrderByDescending(g => g.Count()).Take(8))
        {
            output.WriteLine($"[failures] {group.Count()} x {group.Key}");
        }

        foreach (var (started, error) in Failures.Where(f => f.Started >= settledAt).Take(5))
        {
            output.WriteLine($"[failed after the settle, started {started}] {error}");
        }
    }

    /// <summary>Stops the workers and waits for their calls in flight (idempotent).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers).WaitAsync(TimeSpan.FromSeconds(20));
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _stop.Dispose();
    }

    private async Task RunAsync(IRedisCoordinator coordinator, int worker, int keysPerWorker)
    {
        for (var i = 0; !_stop.IsCancellationRequested; i++)
        {
            var key = $"w{worker}-{i % keysPerWorker}";
            var started = Clock.Elapsed;
            try
            {
                if (i % 2 == 0)
                {
                    await coordinator.SetAsync(key, i, cancellationToken: CancellationToken.None);
                    Acknowledged[key] = (i, Clock.Elapsed);
                }
                else
                {
                    await coordinator.GetAsync<int>(key, CancellationToken.None);
                }

                Calls.Enqueue((started, Clock.Elapsed, true));
            }
            catch (CoordinationUnavailableException ex)
            {
                Calls.Enqueue((started, Clock.Elapsed, false));
                Failures.Enqueue((started, ex.InnerException is { } inner ? $"{ex.Message} <- {inner.GetType().Name}: {inner.Message}" : ex.Message));
                await Task.Delay(5, CancellationToken.None);
            }
#pragma warning disable CA1031 // Any other exception type (MOVED, CROSSSLOT, ...) breaks the contract: collected and asserted on.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                Unexpected.Enqueue(ex);
            }
        }
    }
}
