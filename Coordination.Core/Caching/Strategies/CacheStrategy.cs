namespace Coordination;

/// <summary>A strategy registered for a key prefix: a loader (read-through) or a writer (write-through, write-behind).</summary>
internal abstract class CacheStrategy(string prefix, Type valueType)
{
    public string Prefix { get; } = prefix;

    public Type ValueType { get; } = valueType;

    public bool Matches(string key) => key.StartsWith(Prefix, StringComparison.Ordinal);

    /// <summary>Writes acknowledged and not yet written (write-behind only).</summary>
    public virtual long Pending => 0;

    public virtual ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    /// <summary>Stops taking writes and writes what is queued, until <paramref name="cancellationToken"/> gives up.</summary>
    public virtual Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public InvalidOperationException WrongType(string role, Type requested) =>
        new($"The {role} registered for the key prefix '{Prefix}' handles {ValueType.Name} values, not {requested.Name}.");
}
