namespace Coordination;

/// <summary>The answer to an all-or-nothing acquisition over several levels (<see cref="IRateLimitService.AcquireAllAsync"/>).</summary>
public sealed record RateLimitHierarchyDecision
{
    /// <summary>Initializes the answer from the answers of its levels; it is allowed when every level is.</summary>
    /// <param name="levels">One answer per level, in the order the levels were given.</param>
    public RateLimitHierarchyDecision(IReadOnlyList<RateLimitDecision> levels)
    {
        ArgumentNullException.ThrowIfNull(levels);
        Levels = levels;
        Allowed = levels.Count > 0 && levels.All(level => level.Allowed);
    }

    /// <summary>Gets whether the permits were granted, and so charged to every level.</summary>
    public bool Allowed { get; }

    /// <summary>
    /// Gets the answer of each level, in the order the levels were given. When <see cref="Allowed"/>, each counts after
    /// the charge; otherwise nothing was charged anywhere, and a level's <see cref="RateLimitDecision.Allowed"/> says
    /// whether it alone had room.
    /// </summary>
    public IReadOnlyList<RateLimitDecision> Levels { get; }

    /// <summary>
    /// Gets when a refused request may succeed: the latest <see cref="RateLimitDecision.RetryAfter"/> of the levels that
    /// refused (<see cref="Timeout.InfiniteTimeSpan"/> when one never can); <see cref="TimeSpan.Zero"/> when allowed.
    /// </summary>
    public TimeSpan RetryAfter =>
        Levels.Any(level => level.RetryAfter == Timeout.InfiniteTimeSpan)
            ? Timeout.InfiniteTimeSpan
            : Levels.Select(level => level.RetryAfter).DefaultIfEmpty(TimeSpan.Zero).Max();

    /// <summary>Gets the position of the first level that refused, or -1 when the request was allowed.</summary>
    public int RefusedLevel
    {
        get
        {
            for (var i = 0; i < Levels.Count; i++)
            {
                if (!Levels[i].Allowed)
                {
                    return i;
                }
            }

            return -1;
        }
    }
}
