namespace Coordination;

/// <summary>
/// Thrown by <see cref="ICacheManager.GetOrCreateAsync{T}"/> when the factory ran past its hard timeout and no stale
/// value could be served in its place. The factory is not canceled by this: a late result is still cached.
/// </summary>
public sealed class CacheFactoryTimeoutException : CoordinationException
{
    internal CacheFactoryTimeoutException(TimeSpan timeout)
        : base($"The cache factory did not complete within its hard timeout of {timeout.TotalMilliseconds:F0} ms and no stale value was available.")
    {
        Timeout = timeout;
    }

    /// <summary>The hard timeout that elapsed.</summary>
    public TimeSpan Timeout { get; }
}
