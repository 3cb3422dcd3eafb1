using System.Diagnostics;

namespace Coordination.Chaos;

/// <summary>Workers on both library nodes ask the fixed-window policy for one key, about every 2 ms each.</summary>
internal sealed class RateLimitWorkload(Recorder recorder, RateLimitChecker checker, IReadOnlyList<LibraryNode> nodes, Func<int> redisLife)
{
    public const int WorkersPerNode = 2;

    public Task[] Start(CancellationToken cancellationToken) =>
    [
        .. nodes.SelectMany(node => Enumerable.Range(0, WorkersPerNode).Select(_ => Task.Run(() => RunAsync(node, cancellationToken), cancellationToken))),
    ];

    private async Task RunAsync(LibraryNode node, CancellationToken cancellationToken)
    {
        var limits = node.Coordinator.RateLimits;
        while (!cancellationToken.IsCancellationRequested)
        {
            var start = Stopwatch.GetTimestamp();
            try
            {
                var decision = await limits.AcquireAsync(ChaosConfiguration.Policy, "chaos-key", cancellationToken: cancellationToken);
                var life = redisLife();
                if (decision.Allowed)
                {
                    checker.Admitted(node.Name, life, decision);
                }

                recorder.Current.Success(start, decision.DecidedLocally ? null : $"ratelimit@{node.Name}");
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                recorder.Failure(start, "rate limit", ex);
            }

            try
            {
                await Task.Delay(2, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
        }
    }
}
