using System.Diagnostics;

namespace Coordination.Chaos;

/// <summary>
/// Workers on both library nodes take three locks in turn (<c>TryAcquireAsync</c>, 5 s time to live), enter the
/// <see cref="FencingChecker"/> with their fencing token, write twice with 2 ms between, leave and release.
/// </summary>
internal sealed class LockWorkload(Recorder recorder, FencingChecker checker, IReadOnlyList<LibraryNode> nodes)
{
    public const int WorkersPerNode = 3;
    public const int Names = 3;
    private static readonly LockOptions Options = new() { TimeToLive = TimeSpan.FromSeconds(5) };

    public static string Probe(LibraryNode node) => $"lock@{node.Name}";

    public Task[] Start(CancellationToken cancellationToken) =>
    [
        .. nodes.SelectMany(node => Enumerable.Range(0, WorkersPerNode).Select(i => Task.Run(() => RunAsync(node, i, cancellationToken), cancellationToken))),
    ];

    private async Task RunAsync(LibraryNode node, int worker, CancellationToken cancellationToken)
    {
        var locks = node.Coordinator.Locks;
        for (var call = worker; !cancellationToken.IsCancellationRequested; call++)
        {
            var name = $"chaos-lock-{call % Names}";
            var start = Stopwatch.GetTimestamp();
            ILockHandle? handle;
            try
            {
                handle = await locks.TryAcquireAsync(name, Options, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                recorder.Failure(start, "lock acquire", ex);
                await Pause(5, cancellationToken);
                continue;
            }

            recorder.Current.Success(start, Probe(node));
            if (handle is null)
            {
                await Pause(1, cancellationToken);
                continue;
            }

            await using (handle)
            {
                checker.Enter(name, handle.FencingToken);
                _ = checker.Write(name, handle.FencingToken);
                await Pause(2, cancellationToken);
                _ = checker.Write(name, handle.FencingToken);
                checker.Leave(name, handle.FencingToken);

                start = Stopwatch.GetTimestamp();
                try
                {
                    await handle.ReleaseAsync(cancellationToken);
                    recorder.Current.Success(start);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    recorder.Failure(start, "lock release", ex);
                }
            }
        }
    }

    private static async Task Pause(int milliseconds, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(milliseconds, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
