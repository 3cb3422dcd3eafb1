namespace Coordination;

/// <summary>The one rule for every time to live a caller gives: key/value entries, locks, cache entries.</summary>
internal static class TimeToLive
{
    public static readonly TimeSpan Min = TimeSpan.FromMilliseconds(1);

    public static readonly TimeSpan Max = TimeSpan.FromDays(30);

    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeToLive"/> is outside 1 ms to 30 days.</exception>
    public static void Validate(TimeSpan timeToLive, string parameterName)
    {
        if (timeToLive < Min || timeToLive > Max)
        {
            throw new ArgumentOutOfRangeException(parameterName, timeToLive, "The time to live must be between 1 millisecond and 30 days.");
        }
    }

    /// <inheritdoc cref="Validate(TimeSpan, string)"/>
    public static void Validate(TimeSpan? timeToLive, string parameterName)
    {
        if (timeToLive is { } ttl)
        {
            Validate(ttl, parameterName);
        }
    }
}
