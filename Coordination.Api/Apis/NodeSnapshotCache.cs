using Microsoft.Extensions.Options;

namespace Coordination.Api.Apis;

/// <summary>
/// Keeps the status endpoints from loading Redis with node reads, as <see cref="StatusSnapshotCache"/> does for the
/// PING: one read of every node's report (and the duties) is reused for <see cref="StatusOptions.CacheDuration"/>, and
/// concurrent callers share the read in flight. Empty when this service does not read node reports
/// (<c>WithNodeReports</c> not added).
/// </summary>
public sealed class NodeSnapshotCache(IServiceProvider services, IOptions<StatusOptions> options, TimeProvider timeProvider)
{
    private readonly INodeReports? _reports = services.GetService<INodeReports>();
    private readonly Lock _gate = new();
    private readonly TimeSpan _duration = options.Value.CacheDuration;
    private Task<NodeReportsSnapshot>? _read;
    private long _readStarted;

    /// <summary>Whether node reports are read here.</summary>
    public bool Enabled => _reports is not null;

    /// <summary>The current snapshot, or null when node reports are not read here; <paramref name="cancellationToken"/> stops this caller's wait only.</summary>
    public Task<NodeReportsSnapshot>? GetAsync(CancellationToken cancellationToken)
    {
        if (_reports is null)
        {
            return null;
        }

        Task<NodeReportsSnapshot> read;
        lock (_gate)
        {
            var now = timeProvider.GetTimestamp();
            if (_read is null
                || _read.IsFaulted
                || _read.IsCanceled
                || (_read.IsCompleted && timeProvider.GetElapsedTime(_readStarted, now) >= _duration))
            {
                // Not the caller's token: a caller giving up must not fail the read others wait for; the reader is
                // bounded by the executor's timeouts and the monitor's probe timeout.
                _read = _reports.ReadAsync(CancellationToken.None);
                _readStarted = now;
            }

            read = _read;
        }

        return read.WaitAsync(cancellationToken);
    }
}
