namespace Coordination;

/// <summary>Read-through for one prefix: misses load through the cache's single-flight get-or-create.</summary>
internal sealed class ReadThroughStrategy<T>(string prefix, ICacheLoader<T> loader, CacheEntryOptions? entryOptions)
    : CacheLoaderStrategy(prefix, typeof(T))
{
    public ValueTask<CacheResult<T>> GetAsync(ICacheManager cache, string key, CancellationToken cancellationToken) =>
        cache.GetOrCreateAsync(key, token => loader.LoadAsync(key, token), entryOptions, cancellationToken);

    public override async ValueTask RefreshAsync(ICacheManager cache, string key, CancellationToken cancellationToken)
    {
        var value = await loader.LoadAsync(key, cancellationToken);
        await cache.SetAsync(key, value, entryOptions, cancellationToken);
    }
}
