namespace Coordination;

/// <summary>A read-through registration, callable without knowing its value type (warming, refresh).</summary>
internal abstract class CacheLoaderStrategy(string prefix, Type valueType) : CacheStrategy(prefix, valueType)
{
    /// <summary>Loads <paramref name="key"/> and writes it to <paramref name="cache"/> whatever the cache holds.</summary>
    public abstract ValueTask RefreshAsync(ICacheManager cache, string key, CancellationToken cancellationToken);
}
