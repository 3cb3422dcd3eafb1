namespace Coordination;

/// <summary>An <c>Acquire*</c> call did not get its lock within the wait timeout: contention, not a failure.</summary>
/// <remarks>
/// This is the one exception of the library that does not derive from <see cref="CoordinationException"/>: that
/// type stands for coordination failures (Redis unavailable, deadlock, misuse of the hierarchy), while a wait that
/// runs out is the expected outcome of contention. It derives from <see cref="TimeoutException"/> instead, which is
/// what callers of DistributedLock and of <see cref="System.Threading.SemaphoreSlim"/>-style APIs catch.
/// The message never names the lock (messages reach Warning logs); <see cref="Name"/> does.
/// </remarks>
public sealed class LockTimeoutException : TimeoutException
{
    internal LockTimeoutException(string message, string name, TimeSpan waitTimeout)
        : base(message)
    {
        Name = name;
        WaitTimeout = waitTimeout;
    }

    /// <summary>The lock (or the first lock of a set not acquired) the call waited for.</summary>
    public string Name { get; }

    /// <summary>How long the call waited.</summary>
    public TimeSpan WaitTimeout { get; }
}
