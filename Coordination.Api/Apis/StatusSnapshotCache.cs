using Microsoft.Extensions.Options;

namespace Coordination.Api.Apis;

/// <summary>
/// Keeps the status endpoints from loading Redis: a snapshot (one PING) is reused for
/// <see cref="StatusOptions.CacheDuration"/> after its probe started, and concurrent callers share the one probe in
/// flight, so however many callers there are, at most one status PING is outstanding and at most one starts per
/// period. A failed probe is not kept: the next caller starts a new one.
/// </summary>
public sealed class StatusSnapshotCache(ICoordinationMonitor monitor, IOptions<StatusOptions> options, TimeProvider timeProvider)
{
    private readonly Lock _gate = new();
    private readonly TimeSpan _duration = options.Value.CacheDuration;
    private Task<CoordinationStatus>? _probe;
    private long _probeStarted;

    /// <summary>The current snapshot; <paramref name="cancellationToken"/> stops this caller's wait, not the shared probe.</summary>
    public Task<CoordinationStatus> GetStatusAsync(CancellationToken cancellationToken)
    {
        Task<CoordinationStatus> probe;
        lock (_gate)
        {
            var now = timeProvider.GetTimestamp();
            if (_probe is null
                || _probe.IsFaulted
                || _probe.IsCanceled
                || (_probe.IsCompleted && timeProvider.GetElapsedTime(_probeStarted, now) >= _duration))
            {
                // Not the caller's token: a caller giving up must not fail the probe others wait for. The monitor
                // bounds the probe itself (Health:ProbeTimeout).
                _probe = monitor.GetStatusAsync(CancellationToken.None);
                _probeStarted = now;
            }

            probe = _probe;
        }

        return probe.WaitAsync(cancellationToken);
    }
}
