using System.Buffers;

namespace Coordination;

/// <summary>Turns values into the bytes stored in Redis and PostgreSQL and back. Implementations must be thread-safe.</summary>
public interface ICoordinationSerializer
{
    /// <summary>Writes <paramref name="value"/> to <paramref name="destination"/>.</summary>
    void Serialize<T>(T value, IBufferWriter<byte> destination);

    /// <summary>Reads a value written by <see cref="Serialize{T}"/>.</summary>
    /// <exception cref="CoordinationSerializationException">The bytes are not a <typeparamref name="T"/>.</exception>
    T? Deserialize<T>(ReadOnlySpan<byte> source);
}
