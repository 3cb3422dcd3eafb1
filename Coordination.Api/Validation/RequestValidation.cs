using System.Diagnostics.CodeAnalysis;
using System.Text;
using System.Text.Json;

namespace Coordination.Api.Validation;

/// <summary>The input limits of api-v1.md, checked before the library sees the request (which checks them again).</summary>
internal static class RequestValidation
{
    /// <summary>The longest key or name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 512;

    /// <summary>The longest TTL or timeout: 30 days, in milliseconds.</summary>
    public const long MaxDurationMs = 30L * 24 * 60 * 60 * 1000;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Checks a key or name taken from the route: 1..512 UTF-8 bytes, no control characters.</summary>
    public static bool IsValidName([NotNullWhen(true)] string? name, string field, RequestErrors errors)
    {
        if (string.IsNullOrEmpty(name))
        {
            errors.Add(field, $"The {field} must not be empty.");
            return false;
        }

        if (name.Any(char.IsControl))
        {
            errors.Add(field, $"The {field} must not contain control characters.");
            return false;
        }

        int bytes;
        try
        {
            bytes = StrictUtf8.GetByteCount(name);
        }
        catch (EncoderFallbackException)
        {
            errors.Add(field, $"The {field} must be valid UTF-8 text.");
            return false;
        }

        if (bytes > MaxNameBytes)
        {
            errors.Add(field, $"The {field} must be at most {MaxNameBytes} UTF-8 bytes; it is {bytes}.");
            return false;
        }

        return true;
    }

    /// <summary>Reads an optional duration in milliseconds (1 ms .. 30 days); JSON null or absence means none.</summary>
    public static TimeSpan? ReadDuration(JsonElement? element, string field, RequestErrors errors)
    {
        if (element is not { } value || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var milliseconds) || milliseconds < 1 || milliseconds > MaxDurationMs)
        {
            errors.Add(field, $"{field} must be a whole number of milliseconds from 1 to {MaxDurationMs} (30 days).");
            return null;
        }

        return TimeSpan.FromMilliseconds(milliseconds);
    }
}
