namespace Coordination;

/// <summary>An <see cref="ICacheWarmer"/> over a delegate.</summary>
internal sealed class DelegateCacheWarmer(Func<IBackedCache, CancellationToken, ValueTask<int>> warm) : ICacheWarmer
{
    public ValueTask<int> WarmAsync(IBackedCache cache, CancellationToken cancellationToken) => warm(cache, cancellationToken);
}
