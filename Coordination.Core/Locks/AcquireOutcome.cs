using StackExchange.Redis;

namespace Coordination;

/// <summary>What lock_acquire.lua (or lock_fast_acquire.lua) answered.</summary>
/// <remarks>A class, not a struct: it is the result of several nested async calls, each of which would carry a copy.</remarks>
internal sealed record AcquireOutcome(
    AcquireStatus Status,
    string Token,
    long FencingToken,
    long ExpiresAtMilliseconds,
    int Count,
    long RetryAfterMilliseconds,
    long ArrivalNumber,
    string[] Owners)
{
    /// <summary>When the attempt that produced this outcome was sent (local monotonic clock): validity counts from here.</summary>
    public long SentTimestamp { get; set; }

    /// <summary>
    /// The hold as lock_fast_acquire.lua stored it (<c>token|owner</c>) when it was taken in the fast layout, which
    /// lock_fast_release.lua releases by it; <see langword="null"/> on the general layout.
    /// </summary>
    public string? FastHold { get; init; }

    /// <summary>
    /// The acquisition created the lock's fencing counter (a new name, or one whose counter expired), seeded with
    /// <see cref="FencingToken"/>: the tenant's lock-name quota counts the name (<see cref="QuotaOptions.MaxLockNamesPerTenant"/>).
    /// </summary>
    public bool CreatedCounter { get; init; }

    /// <summary>With <see cref="AcquireStatus.Unverified"/>: the run id of the server, whose fencing epoch the node lacks.</summary>
    public string? RunId { get; init; }

    /// <summary>
    /// Reads lock_fast_acquire.lua's answer for the new hold <paramref name="token"/>, stored as
    /// <paramref name="fastHold"/> for <paramref name="timeToLiveMilliseconds"/>. An answer of one integer carries the
    /// expiry's low bits only, completed with <paramref name="clock"/>'s reading (asked for by the call when there was
    /// one), sent at <paramref name="sentTimestamp"/>; a whole expiry time updates the clock. The integer's token is
    /// counted from <paramref name="fencingBase"/>, the epoch base the call passed.
    /// </summary>
    public static AcquireOutcome ParseFast(
        RedisResult result, string token, string fastHold, long timeToLiveMilliseconds, RedisClock clock, RedisClock.Reading? reading, long sentTimestamp, long fencingBase)
    {
        long fencingToken;
        long expiresAt;
        if (result.Resp2Type == ResultType.Array)
        {
            var parts = (RedisResult[])result!;
            if ((long)parts[0] == -1)
            {
                return Unverified((string)parts[1]!);
            }

            (fencingToken, expiresAt) = ((long)parts[0], (long)parts[1]);
            clock.Observe(expiresAt - timeToLiveMilliseconds, sentTimestamp);
            if (parts.Length > 2)
            {
                return new AcquireOutcome(AcquireStatus.Acquired, token, fencingToken, expiresAt, 1, 0, 0, []) { FastHold = fastHold, CreatedCounter = true };
            }
        }
        else if ((long)result is var packed && packed != 0)
        {
            const long lowMask = (1L << RedisClock.LowBits) - 1;
            fencingToken = fencingBase + (packed >> RedisClock.LowBits);
            expiresAt = reading is null
                ? throw new InvalidOperationException("lock_fast_acquire.lua sent part of an expiry time that was asked for whole.")
                : clock.CompleteTime(reading, packed & lowMask, sentTimestamp, timeToLiveMilliseconds);
        }
        else
        {
            return new AcquireOutcome(AcquireStatus.Refused, string.Empty, 0, 0, 0, -1, 0, []);
        }

        return new AcquireOutcome(AcquireStatus.Acquired, token, fencingToken, expiresAt, 1, 0, 0, []) { FastHold = fastHold };
    }

    /// <summary>The value lock_fast_acquire.lua stores for a hold: its token and owner (tokens never contain '|').</summary>
    public static string FastHoldOf(string token, string owner) => string.Concat(token, "|", owner);

    private static AcquireOutcome Unverified(string runId) =>
        new(AcquireStatus.Unverified, string.Empty, 0, 0, 0, -1, 0, []) { RunId = runId };

    public static AcquireOutcome Parse(RedisResult result)
    {
        var parts = (RedisResult[])result!;
        return (long)parts[0] switch
        {
            1 => new AcquireOutcome(AcquireStatus.Acquired, (string)parts[1]!, (long)parts[2], (long)parts[3], (int)parts[4], 0, 0, [])
            {
                CreatedCounter = parts.Length > 5,
            },
            0 => new AcquireOutcome(
                AcquireStatus.Refused, string.Empty, 0, 0, 0, (long)parts[1], (long)parts[2], [.. parts.Skip(3).Select(p => (string)p!)]),
            2 => new AcquireOutcome(AcquireStatus.UpgradeRefused, string.Empty, 0, 0, 0, -1, 0, []),
            4 => new AcquireOutcome(AcquireStatus.WaitersExceeded, string.Empty, 0, 0, 0, -1, 0, []),
            5 => Unverified((string)parts[1]!),
            _ => new AcquireOutcome(AcquireStatus.ReentryGone, string.Empty, 0, 0, 0, -1, 0, []),
        };
    }
}

internal enum AcquireStatus
{
    /// <summary>Nothing was taken: the server's run id is not one whose fencing epoch the node holds (<see cref="AcquireOutcome.RunId"/>).</summary>
    Unverified = -1,

    Acquired,
    Refused,
    UpgradeRefused,
    ReentryGone,

    /// <summary>The caller would wait, but the lock already has its most waiters.</summary>
    WaitersExceeded,
}
