using System.Collections.Concurrent;

namespace Coordination.IntegrationTests.Locks;

/// <summary>Runs work the way contending callers would: many workers at once, or outside the caller's async flow.</summary>
internal static class LockTestFlows
{
    /// <summary>Runs <paramref name="workers"/> workers at once until all end; returns what they threw (a worker stops at its first exception).</summary>
    public static async Task<Exception[]> RunWorkersAsync(int workers, Func<int, Task> work, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var errors = new ConcurrentQueue<Exception>();
        async Task GuardedAsync(int worker)
        {
            try
            {
                await work(worker);
            }
#pragma warning disable CA1031 // Handed to the caller, which asserts on them.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                errors.Enqueue(ex);
            }
        }

        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => GuardedAsync(w), cancellationToken))).WaitAsync(timeout, cancellationToken);
        return [.. errors];
    }

    /// <summary>Adds one to a counter by reading it and writing it back through Redis: not atomic, only a lock keeps it exact.</summary>
    public static async Task IncrementUnguardedAsync(IRedisCoordinator coordinator, string key, CancellationToken cancellationToken)
    {
        var value = (await coordinator.GetAsync<long>(key, cancellationToken)).Value;
        await coordinator.SetAsync(key, value + 1, cancellationToken: cancellationToken);
    }

    /// <summary>Runs <paramref name="work"/> outside the caller's async flow, as an unrelated caller (another request, another worker) would.</summary>
    public static Task<T> UnrelatedAsync<T>(Func<Task<T>> work)
    {
        // Without the caller's ExecutionContext the work starts with no lock of the caller's flow.
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }
}
