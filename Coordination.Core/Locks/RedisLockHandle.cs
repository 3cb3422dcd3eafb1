namespace Coordination;

/// <summary>One acquisition's handle on a <see cref="HeldLock"/> (re-entries have their own handles on the same hold).</summary>
internal sealed class RedisLockHandle(HeldLock hold) : ILockHandle
{
    private int _released;

    public string Name => hold.Name;

    public string Token => hold.Token;

    public string Owner => hold.Owner;

    public long FencingToken => hold.FencingToken;

    public DateTimeOffset ExpiresAt => hold.ExpiresAt;

    public CancellationToken HandleLost => hold.LostToken;

    internal HeldLock Hold => hold;

    public ValueTask<DateTimeOffset> ExtendAsync(TimeSpan? timeToLive = null, CancellationToken cancellationToken = default) =>
        Volatile.Read(ref _released) != 0
            ? ValueTask.FromException<DateTimeOffset>(ExceptionFactory.LockNotHeld(hold.Name))
            : hold.ExtendAsync(timeToLive, cancellationToken);

    public ValueTask ReleaseAsync(CancellationToken cancellationToken = default) =>
        Interlocked.Exchange(ref _released, 1) == 0 ? hold.ReleaseOneAsync(throwWhenUnavailable: true, cancellationToken) : ValueTask.CompletedTask;

    /// <remarks>A release that cannot reach Redis is logged, not thrown: the hold expires with its time to live.</remarks>
    public ValueTask DisposeAsync() =>
        Interlocked.Exchange(ref _released, 1) == 0 ? hold.ReleaseOneAsync(throwWhenUnavailable: false, CancellationToken.None) : ValueTask.CompletedTask;
}
