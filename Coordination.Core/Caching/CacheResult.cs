using System.Diagnostics.CodeAnalysis;

namespace Coordination;

/// <summary>The outcome of a cache read: a value or none, where it came from and whether it is stale.</summary>
/// <typeparam name="T">The type of the value.</typeparam>
/// <remarks>
/// A stale value (<see cref="IsStale"/>) is the last good value served by fail-safe after its time to live, because
/// the factory or Redis failed or the factory ran past its soft timeout. It is never older than the fail-safe window.
/// </remarks>
public readonly struct CacheResult<T> : IEquatable<CacheResult<T>>
{
    /// <summary>Creates a result that holds <paramref name="value"/>.</summary>
    /// <param name="value">The value.</param>
    /// <param name="source">Where it was found.</param>
    /// <param name="isStale">Whether it is served by fail-safe past its time to live.</param>
    public CacheResult(T value, CacheSource source, bool isStale = false)
    {
        Value = value;
        HasValue = true;
        Source = source;
        IsStale = isStale;
    }

    /// <summary>Whether a value was found (a cached <see langword="null"/> is a value).</summary>
    [MemberNotNullWhen(true, nameof(Value))]
    public bool HasValue { get; }

    /// <summary>The value; <see langword="default"/> when <see cref="HasValue"/> is <see langword="false"/>.</summary>
    public T? Value { get; }

    /// <summary>Where the value came from; <see cref="CacheSource.None"/> without a value.</summary>
    public CacheSource Source { get; }

    /// <summary>Whether the value is past its time to live and served by fail-safe.</summary>
    public bool IsStale { get; }

    /// <summary>Compares two results by value, source and staleness.</summary>
    public static bool operator ==(CacheResult<T> left, CacheResult<T> right) => left.Equals(right);

    /// <summary>Compares two results by value, source and staleness.</summary>
    public static bool operator !=(CacheResult<T> left, CacheResult<T> right) => !left.Equals(right);

    /// <inheritdoc/>
    public bool Equals(CacheResult<T> other) =>
        HasValue == other.HasValue && Source == other.Source && IsStale == other.IsStale && EqualityComparer<T?>.Default.Equals(Value, other.Value);

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is CacheResult<T> other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(HasValue, Value, Source, IsStale);

    /// <inheritdoc/>
    public override string ToString() => HasValue ? $"{Value} ({Source}{(IsStale ? ", stale" : string.Empty)})" : "(none)";
}
