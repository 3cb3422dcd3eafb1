using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Coordination.Api.Validation;

/// <summary>
/// Reads a request body as a JSON object under a size limit. Parsing it here, rather than through model binding,
/// answers malformed or oversized JSON with the same clean 400 in every environment.
/// </summary>
internal static class JsonBody
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Returns the parsed body, or <see langword="null"/> after adding the problem to <paramref name="errors"/>
    /// (under <paramref name="sizeField"/> when the body is too large, under <c>body</c> otherwise).
    /// </summary>
    public static async Task<JsonDocument?> ReadObjectAsync(HttpRequest request, int maxBytes, string sizeField, RequestErrors errors, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            errors.Add(sizeField, $"The request body must be at most {maxBytes} bytes.");
            return null;
        }

        var buffer = new ArrayBufferWriter<byte>((int)Math.Clamp(request.ContentLength ?? 4096, 1, maxBytes + 1L));
        while (true)
        {
            var read = await request.Body.ReadAsync(buffer.GetMemory(4096), cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > maxBytes)
            {
                errors.Add(sizeField, $"The request body must be at most {maxBytes} bytes.");
                return null;
            }
        }

        if (buffer.WrittenCount == 0)
        {
            errors.Add("body", "A JSON body is required.");
            return null;
        }

        // The reader leaves string contents unchecked; JSON must be UTF-8 (RFC 8259), so reject it here rather than
        // store replacement characters.
        if (!Utf8.IsValid(buffer.WrittenSpan))
        {
            errors.Add("body", "The body is not valid UTF-8.");
            return null;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.WrittenMemory, ParseOptions);
        }
        catch (JsonException ex)
        {
            errors.Add("body", $"The body is not valid JSON: {ex.Message}");
            return null;
        }

        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            document.Dispose();
            errors.Add("body", "The body must be a JSON object.");
            return null;
        }

        return document;
    }

    /// <summary>
    /// The property named <paramref name="name"/>, matched case-insensitively as ASP.NET Core binds JSON; the last
    /// one wins when it repeats, as with System.Text.Json. <see langword="null"/> when absent.
    /// </summary>
    public static JsonElement? FindProperty(this JsonElement obj, string name)
    {
        JsonElement? found = null;
        foreach (var property in obj.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                found = property.Value;
            }
        }

        return found;
    }
}
