using Microsoft.Extensions.Options;

namespace Coordination.Worker.Duties;

/// <summary>
/// Writes the coordinator's key <c>worker:heartbeat:{InstanceName}</c> (<see cref="WorkerOptions.InstanceName"/>, under
/// the configured key prefix and tenant) every <see cref="WorkerOptions.HeartbeatInterval"/>, living three intervals,
/// so anyone can tell a live worker from a dead one. Redis being down is expected: a failed beat is logged (once per
/// outage at Warning, then at Debug) and the next one is tried on schedule; any other failure (a write Redis refuses)
/// is logged at Error.
/// </summary>
internal sealed class HeartbeatService(
    IRedisCoordinator coordinator,
    IOptions<WorkerOptions> options,
    TimeProvider timeProvider,
    ILogger<HeartbeatService> logger) : BackgroundService
{
    private bool _failing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.HeartbeatInterval;
        var machine = options.Value.InstanceName;
        var key = $"worker:heartbeat:{machine}";
        WorkerLog.HeartbeatStarted(logger, machine, interval);

        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            do
            {
                await BeatAsync(key, machine, interval * 3, stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    private async Task BeatAsync(string key, string machine, TimeSpan timeToLive, CancellationToken stoppingToken)
    {
        try
        {
            await coordinator.SetAsync(key, new WorkerHeartbeat(timeProvider.GetUtcNow(), machine), timeToLive, stoppingToken);
            if (_failing)
            {
                _failing = false;
                WorkerLog.HeartbeatRecovered(logger);
            }
        }
        catch (CoordinationUnavailableException ex) when (ex.Reason == UnavailableReason.OutOfMemory)
        {
            // Redis answers but refuses writes at its memory limit: not an outage that passes, an operator must act.
            _failing = true;
            WorkerLog.HeartbeatFailed(logger, ex);
        }
        catch (CoordinationUnavailableException ex)
        {
            if (!_failing)
            {
                _failing = true;
                WorkerLog.HeartbeatUnavailable(logger, ex.Reason, ex);
            }
            else
            {
                WorkerLog.HeartbeatStillUnavailable(logger, ex.Reason);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Any other failure is a bug worth seeing, but must not stop the worker's other duties.
            _failing = true;
            WorkerLog.HeartbeatFailed(logger, ex);
        }
    }
}
