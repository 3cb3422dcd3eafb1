namespace Coordination;

/// <summary><see cref="CacheEntryOptions"/> resolved against <see cref="CacheOptions"/> and validated (durations in ms).</summary>
internal sealed class CacheEntrySettings
{
    private CacheEntrySettings()
    {
    }

    public long TimeToLive { get; private init; }

    public long Jitter { get; private init; }

    public string[] Tags { get; private init; } = [];

    public long MemoryTimeToLive { get; private init; }

    public CacheCompression Compression { get; private init; }

    public long FailSafeWindow { get; private init; }

    public double? EagerRefreshThreshold { get; private init; }

    public TimeSpan? SoftTimeout { get; private init; }

    public TimeSpan? HardTimeout { get; private init; }

    public bool DistributedSingleFlight { get; private init; }

    public long Sliding { get; private init; }

    /// <summary>The time to live of this write: base plus a uniform random jitter in [0, jitter].</summary>
    public long NextTimeToLive() => Jitter <= 0 ? TimeToLive : TimeToLive + Random.Shared.NextInt64(Jitter + 1);

    public static CacheEntrySettings Resolve(CacheEntryOptions? entry, CacheOptions defaults)
    {
        var ttl = entry?.SlidingExpiration ?? entry?.TimeToLive ?? defaults.DefaultTimeToLive;
        CoordinationLimits.ValidateTimeToLive(ttl, nameof(entry));

        var jitter = entry?.Jitter ?? defaults.DefaultJitter;
        var memory = entry?.MemoryTimeToLive ?? defaults.MemoryTimeToLive;
        var failSafe = entry?.FailSafeWindow ?? defaults.FailSafeWindow;
        if (jitter < TimeSpan.Zero || memory < TimeSpan.Zero || failSafe < TimeSpan.Zero || failSafe > CoordinationLimits.MaxTimeToLive)
        {
            throw new ArgumentException("Jitter, memory time to live and fail-safe window must not be negative (fail-safe at most 30 days).", nameof(entry));
        }

        var eager = entry?.EagerRefreshThreshold ?? defaults.EagerRefreshThreshold;
        if (eager is <= 0 or >= 1)
        {
            throw new ArgumentException("The eager refresh threshold must be between 0 and 1 (exclusive).", nameof(entry));
        }

        var soft = entry?.FactorySoftTimeout ?? defaults.FactorySoftTimeout;
        var hard = entry?.FactoryHardTimeout ?? defaults.FactoryHardTimeout;
        if (soft <= TimeSpan.Zero || hard <= TimeSpan.Zero || (soft is { } s && hard is { } h && s > h))
        {
            throw new ArgumentException("Factory timeouts must be positive and the soft timeout not above the hard one.", nameof(entry));
        }

        string[] tags = [];
        if (entry?.Tags is { Count: > 0 } given)
        {
            if (given.Count > defaults.MaxTagsPerEntry)
            {
                // Named after the field callers set (and the API reports), as the tag names' own checks are.
                throw TagsProblem($"An entry can have at most {defaults.MaxTagsPerEntry} tags (Coordination:Cache:MaxTagsPerEntry); it has {given.Count}.", "tags");
            }

            tags = new string[given.Count];
            for (var i = 0; i < tags.Length; i++)
            {
                CoordinationKey.ValidateName(given[i], "tags");
                tags[i] = given[i];
            }
        }

        return new CacheEntrySettings
        {
            TimeToLive = (long)ttl.TotalMilliseconds,
            Jitter = (long)jitter.TotalMilliseconds,
            Tags = tags,
            MemoryTimeToLive = (long)memory.TotalMilliseconds,
            Compression = entry?.Compression ?? defaults.Compression,
            FailSafeWindow = (long)failSafe.TotalMilliseconds,
            EagerRefreshThreshold = eager,
            SoftTimeout = soft,
            HardTimeout = hard,
            DistributedSingleFlight = entry?.DistributedSingleFlight ?? defaults.DistributedSingleFlight,
            Sliding = entry?.SlidingExpiration is { } sliding ? (long)sliding.TotalMilliseconds : 0,
        };
    }

    private static ArgumentException TagsProblem(string message, string parameterName) => new(message, parameterName);
}
