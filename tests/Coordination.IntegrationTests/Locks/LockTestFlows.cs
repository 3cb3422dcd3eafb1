namespace Coordination.IntegrationTests.Locks;

/// <summary>Runs work outside the caller's async flow, as an unrelated caller (another request, another worker) would.</summary>
internal static class LockTestFlows
{
    /// <summary>Adds one to a counter by reading it and writing it back through Redis: not atomic, only a lock keeps it exact.</summary>
    public static async Task IncrementUnguardedAsync(IRedisCoordinator coordinator, string key, CancellationToken cancellationToken)
    {
        var value = (await coordinator.GetAsync<long>(key, cancellationToken)).Value;
        await coordinator.SetAsync(key, value + 1, cancellationToken: cancellationToken);
    }

    public static Task<T> UnrelatedAsync<T>(Func<Task<T>> work)
    {
        // Without the caller's ExecutionContext the work starts with no lock of the caller's flow.
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }
}
