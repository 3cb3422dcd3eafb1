namespace Coordination;

/// <summary>A writer registration of value type <typeparamref name="T"/>.</summary>
internal interface ICacheWriteStrategy<in T>
{
    ValueTask SetAsync(ICacheManager cache, string key, T value, CancellationToken cancellationToken);
}
