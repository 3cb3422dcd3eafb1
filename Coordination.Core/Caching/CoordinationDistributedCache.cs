using Microsoft.Extensions.Caching.Distributed;

namespace Coordination;

/// <summary>
/// <see cref="IDistributedCache"/> over the cache engine of one tenant (registered by <c>WithCaching()</c>), so that
/// ASP.NET Core sessions, HybridCache and other consumers share its levels, backplane and compression. Values are
/// stored as given (no serializer). Sliding expiration is restarted by every read and by <see cref="Refresh"/>.
/// </summary>
internal sealed class CoordinationDistributedCache(RedisCacheManager cache) : IDistributedCache
{
    public byte[]? Get(string key) => GetAsync(key).GetAwaiter().GetResult();

    public async Task<byte[]?> GetAsync(string key, CancellationToken token = default)
    {
        var result = await cache.GetAsync<byte[]>(key, token);
        if (result.HasValue && cache.MaySlide(key))
        {
            await cache.TouchAsync(key, token);
        }

        return result.HasValue ? result.Value : null;
    }

    public void Set(string key, byte[] value, DistributedCacheEntryOptions options) => SetAsync(key, value, options).GetAwaiter().GetResult();

    public Task SetAsync(string key, byte[] value, DistributedCacheEntryOptions options, CancellationToken token = default)
    {
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(options);
        var now = cache.Runtime.Time.GetUtcNow();
        TimeSpan? ttl = options.AbsoluteExpirationRelativeToNow;
        if (options.AbsoluteExpiration is { } absolute)
        {
            var untilAbsolute = absolute - now;
            if (untilAbsolute <= TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(options), "The absolute expiration is in the past.");
            }

            ttl = ttl is { } relative && relative < untilAbsolute ? relative : untilAbsolute;
        }

        var entry = new CacheEntryOptions
        {
            TimeToLive = ttl,
            SlidingExpiration = options.SlidingExpiration is { } sliding && (ttl is null || sliding < ttl) ? sliding : null,
        };
        return cache.SetAsync(key, value, entry, token).AsTask();
    }

    public void Refresh(string key) => RefreshAsync(key).GetAwaiter().GetResult();

    public Task RefreshAsync(string key, CancellationToken token = default) => cache.TouchAsync(key, token).AsTask();

    public void Remove(string key) => RemoveAsync(key).GetAwaiter().GetResult();

    public Task RemoveAsync(string key, CancellationToken token = default) => cache.RemoveAsync(key, token).AsTask();
}
