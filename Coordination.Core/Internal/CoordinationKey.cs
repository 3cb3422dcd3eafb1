using System.Text;

namespace Coordination;

/// <summary>Builds the Redis keys of the library and validates caller-supplied names.</summary>
internal static class CoordinationKey
{
    /// <summary>The pattern a key prefix or tenant must match: it can never contain the ':' separator.</summary>
    public const string SegmentPattern = "^[A-Za-z0-9._-]{1,64}$";

    /// <summary>The longest caller-supplied name, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 512;

    public static void ValidateName(string name, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(name, parameterName);
        if (name.Length == 0)
        {
            throw new ArgumentException("The name must not be empty.", parameterName);
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException("The name must not contain control characters.", parameterName);
            }
        }

        int bytes;
        try
        {
            bytes = Utf8Strict.GetByteCount(name);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException("The name must be valid UTF-16 text (no unpaired surrogates).", parameterName, ex);
        }

        if (bytes > MaxNameBytes)
        {
            throw new ArgumentException($"The name must be at most {MaxNameBytes} UTF-8 bytes; it is {bytes}.", parameterName);
        }
    }

    public static void ValidateSegment(string segment, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(segment, parameterName);
        if (segment.Length is 0 or > 64 || !segment.All(IsSegmentChar))
        {
            throw new ArgumentException("The value must be 1..64 characters of letters, digits, '.', '_' or '-'.", parameterName);
        }
    }

    /// <summary>
    /// Builds <c>{prefix}:{tenant}:{capability}:{name}</c>. Prefix and tenant cannot contain ':', so no name can
    /// reach into another tenant's namespace.
    /// </summary>
    public static string Build(string prefix, string tenant, string capability, string name) =>
        string.Concat(prefix, ":", tenant, ":", capability, ":", name);

    /// <summary>The part of a full key after <c>{prefix}:{tenant}:{capability}:</c>.</summary>
    public static string NameOf(string fullKey, string prefix, string tenant, string capability)
    {
        var head = prefix.Length + tenant.Length + capability.Length + 3;
        return fullKey.Length >= head ? fullKey[head..] : fullKey;
    }

    private static bool IsSegmentChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';

    private static readonly UTF8Encoding Utf8Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
