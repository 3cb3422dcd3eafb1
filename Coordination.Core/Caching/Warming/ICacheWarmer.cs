namespace Coordination;

/// <summary>
/// Fills the cache with a set of keys before they are asked for (for example the catalogue's best sellers). Register
/// it with <c>WithCacheWarmer</c>; the cache warming service (<c>WithCacheWarming</c>) runs every warmer when its node
/// becomes the warming node: once at start on one node of the deployment, again on the node that takes over.
/// </summary>
/// <remarks>
/// Warm through the <see cref="IBackedCache"/> passed in: <see cref="IBackedCache.RefreshAsync"/> loads a key with its registered
/// loader; a warmer that reads many rows at once writes them with <see cref="IBackedCache.Cache"/>'s
/// <see cref="ICacheManager.SetAsync{T}"/>. An exception is logged and the other warmers still run.
/// </remarks>
public interface ICacheWarmer
{
    /// <summary>Warms the warmer's keys.</summary>
    /// <param name="cache">The cache with its registered loaders and writers.</param>
    /// <param name="cancellationToken">Canceled at shutdown or when this node stops being the warming node.</param>
    /// <returns>How many keys were written (reported by the <c>coordination.cache.warming.keys</c> counter).</returns>
    ValueTask<int> WarmAsync(IBackedCache cache, CancellationToken cancellationToken);
}
