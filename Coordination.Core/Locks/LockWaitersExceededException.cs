namespace Coordination;

/// <summary>
/// An acquisition that would have waited was refused because too many callers already wait: the tenant's
/// (<see cref="LockManagerOptions.MaxWaitersPerTenant"/>) or the lock's (<see cref="LockManagerOptions.MaxWaitersPerLock"/>)
/// bound on live waiters is reached. The caller was not queued and holds nothing; retry later.
/// </summary>
/// <remarks>
/// Thrown by the <c>Acquire*</c> and the <c>TryAcquire*</c> methods alike (a refusal is not the outcome of the wait).
/// The message never names the lock; <see cref="Name"/> does.
/// </remarks>
public sealed class LockWaitersExceededException : CoordinationException
{
    internal LockWaitersExceededException(string message, string name, LockWaiterLimit limit, int maxWaiters)
        : base(message)
    {
        Name = name;
        Limit = limit;
        MaxWaiters = maxWaiters;
    }

    /// <summary>The lock the caller would have waited for.</summary>
    public string Name { get; }

    /// <summary>Which bound was reached: the tenant's or the lock's.</summary>
    public LockWaiterLimit Limit { get; }

    /// <summary>The bound that was reached (live waiters).</summary>
    public int MaxWaiters { get; }
}
