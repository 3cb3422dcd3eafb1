using System.Buffers;
using System.Text.Json;

namespace Coordination;

/// <summary>The default serializer: UTF-8 JSON through System.Text.Json with web defaults (camelCase).</summary>
public sealed class SystemTextJsonCoordinationSerializer : ICoordinationSerializer
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates a serializer with <see cref="JsonSerializerDefaults.Web"/> or the given options.</summary>
    public SystemTextJsonCoordinationSerializer(JsonSerializerOptions? options = null)
    {
        _options = options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web);
    }

    /// <inheritdoc />
    public void Serialize<T>(T value, IBufferWriter<byte> destination)
    {
        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, value, _options);
    }

    /// <inheritdoc />
    public T? Deserialize<T>(ReadOnlySpan<byte> source)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(source, _options);
        }
        catch (JsonException ex)
        {
            throw new CoordinationSerializationException($"The stored value is not a valid {typeof(T).Name}: {ex.Message}", ex);
        }
    }
}
