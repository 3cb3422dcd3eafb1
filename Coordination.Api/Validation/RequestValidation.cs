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

    /// <summary>Reads a required JSON value of any kind (JSON null included: only absence is an error).</summary>
    public static JsonElement? ReadRequiredValue(JsonElement? element, string field, RequestErrors errors)
    {
        if (element is null)
        {
            errors.Add(field, "The value is required (any JSON, null included).");
        }

        return element;
    }

    /// <summary>Reads an optional duration in milliseconds (1 ms .. 30 days); JSON null or absence means none.</summary>
    public static TimeSpan? ReadDuration(JsonElement? element, string field, RequestErrors errors) =>
        IsAbsent(element) ? null : ReadMilliseconds(element!.Value, field, 1, errors);

    /// <summary>Reads a required duration in milliseconds (1 ms .. 30 days).</summary>
    public static TimeSpan? ReadRequiredDuration(JsonElement? element, string field, RequestErrors errors)
    {
        if (IsAbsent(element))
        {
            errors.Add(field, $"{field} is required: a whole number of milliseconds from 1 to {MaxDurationMs} (30 days).");
            return null;
        }

        return ReadMilliseconds(element!.Value, field, 1, errors);
    }

    /// <summary>Reads an optional wait in milliseconds (0 .. 30 days); JSON null or absence means no wait.</summary>
    public static TimeSpan ReadWait(JsonElement? element, string field, RequestErrors errors) =>
        IsAbsent(element) ? TimeSpan.Zero : ReadMilliseconds(element!.Value, field, 0, errors) ?? TimeSpan.Zero;

    /// <summary>Reads an optional name from the body (a JSON string, checked as <see cref="IsValidName"/>); JSON null or absence means none.</summary>
    public static string? ReadOptionalName(JsonElement? element, string field, RequestErrors errors)
    {
        if (IsAbsent(element))
        {
            return null;
        }

        if (element!.Value.ValueKind != JsonValueKind.String)
        {
            errors.Add(field, $"The {field} must be a JSON string.");
            return null;
        }

        var name = element.Value.GetString();
        return IsValidName(name, field, errors) ? name : null;
    }

    /// <summary>
    /// Reads an optional JSON array of names (each checked as <see cref="IsValidName"/>), at most
    /// <paramref name="maxCount"/> of them, without duplicates in the result; JSON null or absence means none.
    /// </summary>
    public static IReadOnlyList<string> ReadOptionalNames(JsonElement? element, string field, int maxCount, RequestErrors errors)
    {
        if (IsAbsent(element))
        {
            return [];
        }

        if (element!.Value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(field, $"The {field} must be a JSON array of strings.");
            return [];
        }

        var count = element.Value.GetArrayLength();
        if (count > maxCount)
        {
            errors.Add(field, $"At most {maxCount} {field} are allowed; there are {count}.");
            return [];
        }

        var names = new List<string>(count);
        var index = 0;
        foreach (var item in element.Value.EnumerateArray())
        {
            var itemField = $"{field}[{index++}]";
            if (item.ValueKind != JsonValueKind.String)
            {
                errors.Add(itemField, $"The {itemField} must be a JSON string.");
            }
            else if (item.GetString() is var name && IsValidName(name, itemField, errors))
            {
                if (!names.Contains(name, StringComparer.Ordinal))
                {
                    names.Add(name);
                }
            }
        }

        return names;
    }

    /// <summary>Reads a required, non-empty string.</summary>
    public static string? ReadRequiredString(JsonElement? element, string field, RequestErrors errors)
    {
        if (element is not { ValueKind: JsonValueKind.String } value || value.GetString() is not { Length: > 0 } text)
        {
            errors.Add(field, $"The {field} is required (a non-empty JSON string).");
            return null;
        }

        return text;
    }

    private static bool IsAbsent(JsonElement? element) => element is not { } value || value.ValueKind == JsonValueKind.Null;

    private static TimeSpan? ReadMilliseconds(JsonElement value, string field, long min, RequestErrors errors)
    {
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var milliseconds) || milliseconds < min || milliseconds > MaxDurationMs)
        {
            errors.Add(field, $"{field} must be a whole number of milliseconds from {min} to {MaxDurationMs} (30 days).");
            return null;
        }

        return TimeSpan.FromMilliseconds(milliseconds);
    }
}
