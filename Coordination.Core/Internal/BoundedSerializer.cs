using System.Buffers;

namespace Coordination;

/// <summary>Serializes a caller's value and enforces <see cref="CoordinationOptions.MaxValueBytes"/> on the result.</summary>
internal static class BoundedSerializer
{
    /// <exception cref="ArgumentException">The serialized value is larger than <paramref name="maxBytes"/>.</exception>
    public static byte[] SerializeBounded<T>(this ICoordinationSerializer serializer, T value, int maxBytes, string parameterName)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        serializer.Serialize(value, buffer);
        if (buffer.WrittenCount > maxBytes)
        {
            throw new ArgumentException($"The serialized value is {buffer.WrittenCount} bytes; at most {maxBytes} are allowed.", parameterName);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
