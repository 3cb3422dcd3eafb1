namespace Coordination.IntegrationTests.Locks;

/// <summary>Runs work outside the caller's async flow, as an unrelated caller (another request, another worker) would.</summary>
internal static class LockTestFlows
{
    public static Task<T> UnrelatedAsync<T>(Func<Task<T>> work)
    {
        // Without the caller's ExecutionContext the work starts with no lock of the caller's flow.
        using (ExecutionContext.SuppressFlow())
        {
            return Task.Run(work);
        }
    }
}
