using System.Text;

namespace Coordination;

/// <summary>
/// The limits every capability applies to what a caller gives it: names, tenants, times to live. The library checks
/// them on every call; a front end (the HTTP API) checks the same ones up front to name the offending field.
/// </summary>
public static class CoordinationLimits
{
    /// <summary>The longest name or key a caller can give, in UTF-8 bytes.</summary>
    public const int MaxNameBytes = 512;

    /// <summary>What a key prefix or tenant must match: 1..64 letters, digits, '.', '_' or '-' (never the ':' separator).</summary>
    public const string SegmentPattern = "^[A-Za-z0-9._-]{1,64}$";

    private static readonly UTF8Encoding Utf8Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The shortest time to live: 1 millisecond.</summary>
    public static TimeSpan MinTimeToLive { get; } = TimeSpan.FromMilliseconds(1);

    /// <summary>The longest time to live: 30 days.</summary>
    public static TimeSpan MaxTimeToLive { get; } = TimeSpan.FromDays(30);

    /// <summary>Whether <paramref name="timeToLive"/> lies within <see cref="MinTimeToLive"/>..<see cref="MaxTimeToLive"/>.</summary>
    /// <param name="timeToLive">The time to live a caller gave.</param>
    /// <returns><see langword="true"/> when the library accepts it.</returns>
    public static bool IsValidTimeToLive(TimeSpan timeToLive) => timeToLive >= MinTimeToLive && timeToLive <= MaxTimeToLive;

    /// <summary>Whether <paramref name="segment"/> is a valid tenant or key prefix (<see cref="SegmentPattern"/>).</summary>
    /// <param name="segment">The tenant or prefix.</param>
    /// <returns><see langword="true"/> when the library accepts it.</returns>
    public static bool IsValidSegment(string? segment) =>
        segment is { Length: > 0 and <= 64 } && segment.All(static c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');

    /// <summary>
    /// What is wrong with a caller's name or key (1..<see cref="MaxNameBytes"/> UTF-8 bytes, no control characters,
    /// no unpaired surrogates), or <see langword="null"/> when the library accepts it.
    /// </summary>
    /// <param name="name">The name or key.</param>
    /// <param name="subject">How the sentence calls it ("name", "key", a field name).</param>
    /// <returns>A sentence about <paramref name="subject"/>, or <see langword="null"/>.</returns>
    public static string? FindNameProblem(string? name, string subject = "name")
    {
        if (string.IsNullOrEmpty(name))
        {
            return $"The {subject} must not be empty.";
        }

        foreach (var c in name)
        {
            if (char.IsControl(c))
            {
                return $"The {subject} must not contain control characters.";
            }
        }

        int bytes;
        try
        {
            bytes = Utf8Strict.GetByteCount(name);
        }
        catch (EncoderFallbackException)
        {
            return $"The {subject} must be valid UTF-8 text (no unpaired surrogates).";
        }

        return bytes > MaxNameBytes ? $"The {subject} must be at most {MaxNameBytes} UTF-8 bytes; it is {bytes}." : null;
    }

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeToLive"/> is outside 1 ms to 30 days.</exception>
    internal static void ValidateTimeToLive(TimeSpan timeToLive, string parameterName)
    {
        if (!IsValidTimeToLive(timeToLive))
        {
            throw new ArgumentOutOfRangeException(parameterName, timeToLive, "The time to live must be between 1 millisecond and 30 days.");
        }
    }

    /// <inheritdoc cref="ValidateTimeToLive(TimeSpan, string)"/>
    internal static void ValidateTimeToLive(TimeSpan? timeToLive, string parameterName)
    {
        if (timeToLive is { } ttl)
        {
            ValidateTimeToLive(ttl, parameterName);
        }
    }
}
