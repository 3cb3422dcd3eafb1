namespace Coordination;

/// <summary>The handles of a set of locks taken all or none, in canonical order.</summary>
internal sealed class RedisMultiLockHandle : IMultiLockHandle
{
    private readonly RedisLockHandle[] _handles;
    private readonly CancellationTokenSource _lost;
    private int _released;

    public RedisMultiLockHandle(RedisLockHandle[] handles)
    {
        _handles = handles;
        _lost = CancellationTokenSource.CreateLinkedTokenSource([.. handles.Select(h => h.HandleLost)]);
        HandleLost = _lost.Token;
    }

    public IReadOnlyList<ILockHandle> Locks => _handles;

    public CancellationToken HandleLost { get; }

    public async ValueTask ExtendAsync(TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        foreach (var handle in _handles)
        {
            await handle.ExtendAsync(timeToLive, cancellationToken);
        }
    }

    public async ValueTask ReleaseAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.Exchange(ref _released, 1) != 0)
        {
            return;
        }

        await ReleaseAllAsync(_handles, cancellationToken);
        _lost.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ReleaseAsync(CancellationToken.None);
        }
        catch (CoordinationUnavailableException ex)
        {
            _handles[0].Hold.OnReleaseFailed(ex);
        }
    }

    /// <summary>Releases <paramref name="handles"/> in reverse order; every one is attempted, the first failure is rethrown.</summary>
    internal static async ValueTask ReleaseAllAsync(IReadOnlyList<ILockHandle> handles, CancellationToken cancellationToken)
    {
        CoordinationUnavailableException? failure = null;
        for (var i = handles.Count - 1; i >= 0; i--)
        {
            try
            {
                await handles[i].ReleaseAsync(cancellationToken);
            }
            catch (CoordinationUnavailableException ex)
            {
                failure ??= ex;
            }
        }

        if (failure is not null)
        {
            throw failure;
        }
    }
}
