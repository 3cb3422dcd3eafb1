using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Coordination.Api.Validation;

/// <summary>
/// The input limits of api-v1.md, checked on the bound request records before the library sees the request (which
/// checks them again). What cannot be bound at all (malformed JSON, a wrong JSON type) is answered by
/// <see cref="Problems.RequestBodyProblems"/>.
/// </summary>
internal static class RequestValidation
{
    /// <summary>The longest TTL or timeout in milliseconds: the library's longest time to live (30 days).</summary>
    public static readonly long MaxDurationMs = (long)CoordinationLimits.MaxTimeToLive.TotalMilliseconds;

    /// <summary>Checks a key or name by the library's rule (<see cref="CoordinationLimits.FindNameProblem"/>).</summary>
    public static bool IsValidName([NotNullWhen(true)] string? name, string field, RequestErrors errors)
    {
        if (CoordinationLimits.FindNameProblem(name, field) is { } problem)
        {
            errors.Add(field, problem);
            return false;
        }

        return name is not null;
    }

    /// <summary>Checks a required JSON value of any kind (JSON null included: only absence, <see cref="JsonValueKind.Undefined"/>, is an error).</summary>
    public static JsonElement? ReadRequiredValue(JsonElement value, string field, RequestErrors errors)
    {
        if (value.ValueKind == JsonValueKind.Undefined)
        {
            errors.Add(field, "The value is required (any JSON, null included).");
            return null;
        }

        return value;
    }

    /// <summary>Reads an optional duration in milliseconds (1 ms .. 30 days); absent or JSON null means none.</summary>
    public static TimeSpan? ReadDuration(long? milliseconds, string field, RequestErrors errors) =>
        milliseconds is { } value ? ReadMilliseconds(value, field, 1, errors) : null;

    /// <summary>Reads a required duration in milliseconds (1 ms .. 30 days).</summary>
    public static TimeSpan? ReadRequiredDuration(long? milliseconds, string field, RequestErrors errors)
    {
        if (milliseconds is not { } value)
        {
            errors.Add(field, $"{field} is required: a whole number of milliseconds from 1 to {MaxDurationMs} (30 days).");
            return null;
        }

        return ReadMilliseconds(value, field, 1, errors);
    }

    /// <summary>
    /// Reads an optional durability, <c>asynchronous</c> or <c>synchronous</c> (any case); absent or JSON null means the
    /// service's default (<c>Coordination:Fallback:Durability</c>).
    /// </summary>
    public static KeyValueDurability? ReadDurability(string? text, string field, RequestErrors errors)
    {
        if (text is null)
        {
            return null;
        }

        if (string.Equals(text, "asynchronous", StringComparison.OrdinalIgnoreCase))
        {
            return KeyValueDurability.Asynchronous;
        }

        if (string.Equals(text, "synchronous", StringComparison.OrdinalIgnoreCase))
        {
            return KeyValueDurability.Synchronous;
        }

        errors.Add(field, $"{field} must be \"asynchronous\" or \"synchronous\".");
        return null;
    }

    /// <summary>Reads an optional wait in milliseconds (0 .. 30 days); absent or JSON null means no wait.</summary>
    public static TimeSpan ReadWait(long? milliseconds, string field, RequestErrors errors) =>
        milliseconds is { } value ? ReadMilliseconds(value, field, 0, errors) ?? TimeSpan.Zero : TimeSpan.Zero;

    /// <summary>Reads an optional name (checked as <see cref="IsValidName"/>); absent or JSON null means none.</summary>
    public static string? ReadOptionalName(string? name, string field, RequestErrors errors) =>
        name is null || !IsValidName(name, field, errors) ? null : name;

    /// <summary>
    /// Reads an optional list of names (each checked as <see cref="IsValidName"/>), at most <paramref name="maxCount"/>
    /// of them, without duplicates in the result; absent or JSON null means none.
    /// </summary>
    public static IReadOnlyList<string> ReadOptionalNames(IReadOnlyList<string?>? items, string field, int maxCount, RequestErrors errors)
    {
        if (items is null)
        {
            return [];
        }

        if (items.Count > maxCount)
        {
            errors.Add(field, $"At most {maxCount} {field} are allowed; there are {items.Count}.");
            return [];
        }

        var names = new List<string>(items.Count);
        for (var index = 0; index < items.Count; index++)
        {
            var itemField = $"{field}[{index}]";
            if (items[index] is not { } name)
            {
                errors.Add(itemField, $"The {itemField} must be a JSON string.");
            }
            else if (IsValidName(name, itemField, errors) && !names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        return names;
    }

    /// <summary>Reads a required, non-empty string.</summary>
    public static string? ReadRequiredString(string? text, string field, RequestErrors errors)
    {
        if (string.IsNullOrEmpty(text))
        {
            errors.Add(field, $"The {field} is required (a non-empty JSON string).");
            return null;
        }

        return text;
    }

    private static TimeSpan? ReadMilliseconds(long milliseconds, string field, long min, RequestErrors errors)
    {
        if (milliseconds < min || milliseconds > MaxDurationMs)
        {
            errors.Add(field, $"{field} must be a whole number of milliseconds from {min} to {MaxDurationMs} (30 days).");
            return null;
        }

        return TimeSpan.FromMilliseconds(milliseconds);
    }
}
