namespace Coordination;

/// <summary>Write-through for one prefix: the writer first; the cache only when the writer succeeded.</summary>
internal sealed class WriteThroughStrategy<T>(string prefix, ICacheWriter<T> writer, CacheEntryOptions? entryOptions)
    : CacheStrategy(prefix, typeof(T)), ICacheWriteStrategy<T>
{
    public async ValueTask SetAsync(ICacheManager cache, string key, T value, CancellationToken cancellationToken)
    {
        await writer.WriteAsync([new KeyValuePair<string, T>(key, value)], cancellationToken);

        // The system of record has the value now: a caller that gives up must not leave the cache behind it.
        await cache.SetAsync(key, value, entryOptions, CancellationToken.None);
    }
}
