namespace Coordination;

/// <summary>
/// Waiting for the lock would have closed a cycle of owners each waiting for a lock the next one holds: nobody in
/// it could ever proceed. The caller was not queued; release the locks it holds (or retry later) so the others can
/// proceed. Exactly one of the owners closing a cycle gets this exception.
/// </summary>
/// <remarks>The message gives the size of the cycle; <see cref="Cycle"/> names its owners and locks (names stay out of messages, which reach Warning logs).</remarks>
public sealed class DeadlockDetectedException : CoordinationException
{
    internal DeadlockDetectedException(string message, IReadOnlyList<LockWait> cycle)
        : base(message)
    {
        Cycle = cycle;
    }

    /// <summary>
    /// The cycle, starting with the caller: each owner waits for its lock, which the next owner holds; the last
    /// lock is held by the caller.
    /// </summary>
    public IReadOnlyList<LockWait> Cycle { get; }
}
