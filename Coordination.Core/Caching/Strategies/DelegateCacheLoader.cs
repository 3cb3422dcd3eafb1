namespace Coordination;

/// <summary>An <see cref="ICacheLoader{T}"/> over a delegate.</summary>
internal sealed class DelegateCacheLoader<T>(Func<string, CancellationToken, ValueTask<T>> load) : ICacheLoader<T>
{
    public ValueTask<T> LoadAsync(string key, CancellationToken cancellationToken) => load(key, cancellationToken);
}
