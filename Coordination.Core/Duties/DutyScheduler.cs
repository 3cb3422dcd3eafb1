using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Coordination;

/// <summary>
/// Runs every registered <see cref="IDuty"/>, each in its own loop, on one node at a time.
/// </summary>
/// <remarks>
/// <para>A round of a duty: take the duty's lock (a platform lock, <c>duty:{name}</c>, that no tenant can name; renewed
/// while the run lasts) or, when another node holds it, look again after <see cref="DutySchedulerOptions.RetryInterval"/>;
/// ask Redis whether the duty is due (the schedule is shared, so the duty runs once per interval over all nodes, not
/// once per node); run it under <see cref="DutyOptions.Timeout"/>; record the run (duty_record.lua: the state JSON, the
/// counters and the next due time, all in Redis's clock); release the lock and wait until the duty is next due.</para>
/// <para>Nothing stops a loop but the host's shutdown: a failing run is logged, counted, recorded and retried on
/// schedule; Redis being unavailable is logged once per outage and retried.</para>
/// </remarks>
internal sealed class DutyScheduler(
    IEnumerable<DutyRegistration> registrations,
    IServiceProvider services,
    IOptionsMonitor<DutyOptions> dutyOptions,
    IOptions<DutySchedulerOptions> schedulerOptions,
    IOptions<CoordinationOptions> coordination,
    IPlatformLocks platformLocks,
    DutyState state,
    CoordinationMetrics coordinationMetrics,
    IEnumerable<IDutyObserver> observers,
    TimeProvider time,
    ILogger<DutyScheduler> logger) : BackgroundService
{
    private readonly DutyRegistration[] _duties = [.. registrations.DistinctBy(r => r.Name, StringComparer.Ordinal)];
    private readonly IDutyObserver[] _observers = [.. observers];
    private readonly DutyMetrics _metrics = new(coordinationMetrics);
    private readonly IDistributedLockManager _locks = platformLocks.For(coordination.Value.Tenant);
    private readonly string _node = schedulerOptions.Value.NodeName;
    private readonly string _owner = "duty-" + Guid.NewGuid().ToString("N");

    /// <summary>The names of the duties this scheduler runs.</summary>
    internal IReadOnlyList<string> Duties => [.. _duties.Select(d => d.Name)];

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(_duties.Select(duty => Task.Run(() => LoopAsync(duty, stoppingToken), CancellationToken.None)));

    private async Task LoopAsync(DutyRegistration registration, CancellationToken stopping)
    {
        var name = registration.Name;
        var options = dutyOptions.Get(name);
        if (!options.Enabled)
        {
            DutiesLog.Disabled(logger, name);
            return;
        }

        IDuty duty;
        try
        {
            duty = registration.Resolve(services);
        }
        catch (Exception ex)
        {
            // A duty that cannot be built cannot run; the host and the other duties go on.
            DutiesLog.LoopFailed(logger, name, ex);
            return;
        }

        var retry = options.Interval < schedulerOptions.Value.RetryInterval ? options.Interval : schedulerOptions.Value.RetryInterval;
        var unavailable = false;
        DutiesLog.Scheduled(logger, name, options.Interval);
        while (!stopping.IsCancellationRequested)
        {
            TimeSpan wait;
            try
            {
                wait = await RoundAsync(name, duty, options, retry, stopping);
                unavailable = false;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (CoordinationUnavailableException ex)
            {
                _metrics.Round(name, DutyMetrics.Unavailable);
                if (!unavailable)
                {
                    unavailable = true;
                    DutiesLog.Unavailable(logger, name, ex.Reason);
                }
                else
                {
                    DutiesLog.StillUnavailable(logger, name, ex.Reason);
                }

                wait = retry;
            }
            catch (Exception ex)
            {
                DutiesLog.LoopFailed(logger, name, ex);
                wait = retry;
            }

            try
            {
                await Task.Delay(wait, time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round of one duty on this node; returns how long to wait before the next round.</summary>
    private async Task<TimeSpan> RoundAsync(string name, IDuty duty, DutyOptions options, TimeSpan retry, CancellationToken stopping)
    {
        await using var hold = await _locks.TryAcquireAsync(
            "duty:" + name,
            new LockOptions { TimeToLive = options.LockTimeToLive, AutoRenew = true, Owner = _owner },
            stopping);
        if (hold is null)
        {
            _metrics.Round(name, DutyMetrics.Skipped);
            DutiesLog.Busy(logger, name);
            return retry;
        }

        var (startedMs, dueMs) = await state.BeginAsync(name, stopping);
        if (dueMs > startedMs)
        {
            // Another node ran it recently: wait until it is due (bounded by the interval, should the clock jump).
            _metrics.Round(name, DutyMetrics.Skipped);
            var notYet = TimeSpan.FromMilliseconds(dueMs - startedMs);
            return notYet < options.Interval ? notYet : options.Interval;
        }

        var started = Stopwatch.GetTimestamp();
        string? error = null;
        Exception? failure = null;
        using (var timeout = new CancellationTokenSource(options.Timeout, time))
        using (var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, hold.HandleLost, timeout.Token))
        {
            try
            {
                await duty.RunAsync(linked.Token);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                throw; // Shutdown: the run is neither a success nor a failure.
            }
            catch (Exception ex)
            {
                failure = ex;
                error = hold.HandleLost.IsCancellationRequested ? "lock-lost"
                    : timeout.IsCancellationRequested && ex is OperationCanceledException ? "timeout"
                    : Describe(ex);
            }
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        _metrics.Ran(name, error is null, elapsed);
        (long Now, long Due, long Runs, long Failures) recorded;
        try
        {
            recorded = await state.RecordAsync(name, _node, startedMs, options.Interval, error is null, error, stopping);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stopping.IsCancellationRequested)
        {
            DutiesLog.RecordFailed(logger, name, ex);
            if (error is not null)
            {
                DutiesLog.Failed(logger, name, error, (long)elapsed.TotalMilliseconds, time.GetUtcNow() + options.Interval, failure);
            }

            return options.Interval;
        }

        var run = new DutyRun(
            name,
            _node,
            DateTimeOffset.FromUnixTimeMilliseconds(startedMs),
            DateTimeOffset.FromUnixTimeMilliseconds(recorded.Now),
            error is null,
            error,
            DateTimeOffset.FromUnixTimeMilliseconds(recorded.Due),
            recorded.Runs,
            recorded.Failures);
        if (error is null)
        {
            DutiesLog.Succeeded(logger, name, (long)elapsed.TotalMilliseconds, run.NextRunAt);
        }
        else
        {
            DutiesLog.Failed(logger, name, error, (long)elapsed.TotalMilliseconds, run.NextRunAt, failure);
        }

        Notify(run);
        return TimeSpan.FromMilliseconds(Math.Max(0, recorded.Due - recorded.Now));
    }

    /// <summary>What is recorded of a failure: the exception's type (and the reason of an unavailable Redis), never its message, which may carry keys or tenant data.</summary>
    internal static string Describe(Exception exception) => exception switch
    {
        CoordinationUnavailableException unavailable => $"{nameof(CoordinationUnavailableException)}: {unavailable.Reason}",
        AggregateException { InnerExceptions: [var inner] } => Describe(inner),
        _ => exception.GetType().Name,
    };

    private void Notify(DutyRun run)
    {
        foreach (var observer in _observers)
        {
            try
            {
                if (run.Succeeded)
                {
                    observer.OnDutySucceeded(run);
                }
                else
                {
                    observer.OnDutyFailed(run);
                }
            }
            catch (Exception ex)
            {
                DutiesLog.ObserverFailed(logger, run.Name, ex);
            }
        }
    }
}
