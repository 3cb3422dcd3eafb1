using Coordination.IntegrationTests.Infrastructure;

namespace Coordination.Chaos;

/// <summary>Lets the runner hold a workload's workers between two calls (for a read-back), and let them go again.</summary>
internal sealed class PauseGate
{
    private TaskCompletionSource? _resume;
    private int _workers;
    private int _paused;

    public void Register() => Interlocked.Increment(ref _workers);

    public void Unregister() => Interlocked.Decrement(ref _workers);

    /// <summary>Called by a worker between calls: waits while the gate is closed.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var resume = Volatile.Read(ref _resume);
        if (resume is null)
        {
            return;
        }

        Interlocked.Increment(ref _paused);
        try
        {
            await resume.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            Interlocked.Decrement(ref _paused);
        }
    }

    /// <summary>Closes the gate and returns once every worker waits at it (at most 30 s: a call that hangs longer is a finding).</summary>
    public Task PauseAsync(CancellationToken cancellationToken)
    {
        Volatile.Write(ref _resume, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        return ProcessUtil.WaitUntilAsync(() => Volatile.Read(ref _paused) >= Volatile.Read(ref _workers), TimeSpan.FromSeconds(30), "the workers to pause", cancellationToken);
    }

    public void Resume() => Interlocked.Exchange(ref _resume, null)?.TrySetResult();
}
