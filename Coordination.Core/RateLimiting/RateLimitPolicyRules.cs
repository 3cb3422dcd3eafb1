using System.Globalization;

namespace Coordination;

/// <summary>
/// What makes a <see cref="RateLimitPolicy"/> valid, how its numbers reach the scripts, and how it is stored in Redis.
/// One rule for configuration (checked at start) and for policies set at run time (<see cref="ArgumentException"/>).
/// </summary>
internal static class RateLimitPolicyRules
{
    /// <summary>The largest limit of a <see cref="RateLimitAlgorithm.SlidingLog"/> policy: its log keeps one entry per permit.</summary>
    public const long MaxSlidingLogLimit = 10_000;

    /// <summary>The largest limit of a <see cref="RateLimitAlgorithm.Concurrency"/> policy: one sorted-set member per permit held.</summary>
    public const long MaxConcurrencyLimit = 10_000;

    /// <summary>
    /// The largest product of a count and the period in ms that the scripts compute with: Lua numbers are doubles, and
    /// the counting stays exact in integers well below 2^53.
    /// </summary>
    public const long MaxExactProduct = 1L << 50;

    private const string AdaptiveMark = "adaptive";

    public static TimeSpan MinPeriod { get; } = TimeSpan.FromMilliseconds(1);

    public static TimeSpan MaxPeriod { get; } = TimeSpan.FromDays(30);

    /// <summary>The bucket's capacity or the GCRA burst: <see cref="RateLimitPolicy.Burst"/>, else the limit.</summary>
    public static long Capacity(RateLimitPolicy policy) => policy.Burst ?? policy.Limit;

    /// <summary>
    /// The permits of <paramref name="allowance"/> a request of <paramref name="priority"/> may not use: none for a
    /// critical one; <c>ceil(allowance × share)</c> for a normal one, at most <c>allowance − 1</c> so it always has one.
    /// Counted in decimal so a share such as 0.7 of 10 is 7, not 8.
    /// </summary>
    public static long Reserve(long allowance, double share, RateLimitPriority priority) =>
        priority == RateLimitPriority.Critical || allowance <= 1
            ? 0
            : Math.Min(allowance - 1, (long)Math.Ceiling(allowance * (decimal)share));

    public static long PeriodMilliseconds(RateLimitPolicy policy) => policy.Period.Ticks / TimeSpan.TicksPerMillisecond;

    /// <summary>What is wrong with <paramref name="policy"/>, or <see langword="null"/> when it is valid.</summary>
    public static string? FindProblem(RateLimitPolicy? policy)
    {
        if (policy is null)
        {
            return "The definition is required.";
        }

        if (!Enum.IsDefined(policy.Algorithm))
        {
            return $"The algorithm {(int)policy.Algorithm} is not one of {string.Join(", ", Enum.GetNames<RateLimitAlgorithm>())}.";
        }

        if (policy.Limit < 1)
        {
            return $"The limit must be at least 1 (it is {policy.Limit}).";
        }

        if (policy.Period < MinPeriod || policy.Period > MaxPeriod)
        {
            return $"The period must be 1 ms to 30 days (it is {policy.Period}).";
        }

        if (policy.Period.Ticks % TimeSpan.TicksPerMillisecond != 0)
        {
            return $"The period must be a whole number of milliseconds (it is {policy.Period}): Redis's clock is read in ms.";
        }

        if (policy.Burst is < 1)
        {
            return $"The burst must be at least 1 when set (it is {policy.Burst}).";
        }

        var period = PeriodMilliseconds(policy);
        return policy.Algorithm switch
        {
            RateLimitAlgorithm.SlidingLog when policy.Limit > MaxSlidingLogLimit =>
                $"A sliding log keeps one entry per permit, so its limit is at most {MaxSlidingLogLimit} (it is {policy.Limit}); use SlidingWindow for larger limits.",
            RateLimitAlgorithm.Concurrency when policy.Limit > MaxConcurrencyLimit =>
                $"A concurrency policy holds one entry per permit, so its limit is at most {MaxConcurrencyLimit} (it is {policy.Limit}).",
            RateLimitAlgorithm.SlidingWindow when policy.Limit > MaxExactProduct / period =>
                $"The limit times the period in ms must be at most {MaxExactProduct} to be counted exactly (it is {policy.Limit} x {period} ms); use a shorter period with a proportionally smaller limit.",
            RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.Gcra when Math.Max(policy.Limit, Capacity(policy)) > MaxExactProduct / period =>
                $"The limit and the burst times the period in ms must be at most {MaxExactProduct} to be counted exactly (they are {policy.Limit} and {Capacity(policy)} x {period} ms); use a shorter period with a proportionally smaller limit.",
            RateLimitAlgorithm.FixedWindow when policy.Limit > MaxExactProduct =>
                $"The limit must be at most {MaxExactProduct} (it is {policy.Limit}).",
            _ => null,
        };
    }

    /// <exception cref="ArgumentException">The definition is invalid.</exception>
    public static void Validate(RateLimitPolicy? policy, string parameterName)
    {
        if (FindProblem(policy) is { } problem)
        {
            throw new ArgumentException(problem, parameterName);
        }
    }

    /// <summary>
    /// The stored form: <c>v1|{algorithm}|{limit}|{period ms}|{burst or empty}</c>, followed by <c>|adaptive</c> for an
    /// adaptive policy (so a policy that is not adaptive is stored as before adaptive limits existed).
    /// </summary>
    public static string Serialize(RateLimitPolicy policy) => string.Create(
        CultureInfo.InvariantCulture,
        $"v1|{policy.Algorithm}|{policy.Limit}|{PeriodMilliseconds(policy)}|{policy.Burst}{(policy.Adaptive ? "|" + AdaptiveMark : "")}");

    /// <summary>The policy stored as <paramref name="stored"/>, or <see langword="null"/> when it is not a valid one.</summary>
    public static RateLimitPolicy? Parse(string? stored)
    {
        var parts = stored?.Split('|');
        var adaptive = parts is [_, _, _, _, _, AdaptiveMark];
        if (adaptive)
        {
            parts = parts![..5];
        }

        if (parts is not ["v1", var algorithm, var limit, var period, var burst]
            || !Enum.TryParse<RateLimitAlgorithm>(algorithm, ignoreCase: false, out var parsedAlgorithm)
            || !long.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out var parsedLimit)
            || !long.TryParse(period, NumberStyles.None, CultureInfo.InvariantCulture, out var parsedPeriod)
            || parsedPeriod > (long)MaxPeriod.TotalMilliseconds)
        {
            return null;
        }

        long? parsedBurst = null;
        if (burst.Length > 0)
        {
            if (!long.TryParse(burst, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
            {
                return null;
            }

            parsedBurst = value;
        }

        var policy = new RateLimitPolicy
        {
            Algorithm = parsedAlgorithm,
            Limit = parsedLimit,
            Period = TimeSpan.FromMilliseconds(parsedPeriod),
            Burst = parsedBurst,
            Adaptive = adaptive,
        };
        return FindProblem(policy) is null ? policy : null;
    }
}
