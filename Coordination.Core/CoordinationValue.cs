namespace Coordination;

/// <summary>The result of a read: whether the key exists, its value and, when asked for, its remaining time to live.</summary>
/// <typeparam name="T">The type the value was read as.</typeparam>
/// <remarks><see langword="default"/> stands for a key that does not exist.</remarks>
public readonly record struct CoordinationValue<T>
{
    /// <summary>Creates a result for a key that exists.</summary>
    public CoordinationValue(T? value, TimeSpan? timeToLive = null, bool fromFallback = false)
    {
        HasValue = true;
        Value = value;
        TimeToLive = timeToLive;
        FromFallback = fromFallback;
    }

    /// <summary>Whether the key exists.</summary>
    public bool HasValue { get; }

    /// <summary>The value, or <see langword="default"/> when <see cref="HasValue"/> is false.</summary>
    public T? Value { get; }

    /// <summary>The remaining time to live; <see langword="null"/> when the key never expires or the TTL was not read.</summary>
    public TimeSpan? TimeToLive { get; }

    /// <summary>Whether the value came from the PostgreSQL fallback store because Redis was unavailable.</summary>
    public bool FromFallback { get; }
}
