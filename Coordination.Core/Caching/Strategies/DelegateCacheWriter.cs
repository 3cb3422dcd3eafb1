namespace Coordination;

/// <summary>An <see cref="ICacheWriter{T}"/> over a delegate.</summary>
internal sealed class DelegateCacheWriter<T>(Func<IReadOnlyList<KeyValuePair<string, T>>, CancellationToken, ValueTask> write) : ICacheWriter<T>
{
    public ValueTask WriteAsync(IReadOnlyList<KeyValuePair<string, T>> writes, CancellationToken cancellationToken) => write(writes, cancellationToken);
}
