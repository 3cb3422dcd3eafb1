using System.Globalization;

namespace Coordination.Chaos;

/// <summary>The configuration every node of the run shares: one platform (key prefix, fallback schema, policy).</summary>
internal static class ChaosConfiguration
{
    public const string KeyPrefix = "chaos";
    public const string Schema = "chaos";
    public const string Policy = "chaos-fixed";
    public const int PolicyLimit = 50;
    public const int NodeCount = 2;
    public static readonly TimeSpan PolicyPeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Settings of a node. The cache's invalidation log is polled every 0.5 s (default 5 s) so the coherence check after
    /// recovery waits less; the rate limit's local fallback knows the two nodes that share the limit.
    /// </summary>
    public static Dictionary<string, string?> For(string redis, string postgres) => new()
    {
        ["ConnectionStrings:redis"] = redis,
        ["ConnectionStrings:coordinationdb"] = postgres,
        ["Coordination:KeyPrefix"] = KeyPrefix,
        ["Coordination:Fallback:Schema"] = Schema,
        ["Coordination:Cache:InvalidationLogPollInterval"] = "00:00:00.500",
        [$"Coordination:RateLimiting:Policies:{Policy}:Algorithm"] = "FixedWindow",
        [$"Coordination:RateLimiting:Policies:{Policy}:Limit"] = PolicyLimit.ToString(CultureInfo.InvariantCulture),
        [$"Coordination:RateLimiting:Policies:{Policy}:Period"] = PolicyPeriod.ToString("c", CultureInfo.InvariantCulture),
        ["Coordination:RateLimiting:Fallback:NodeCount"] = NodeCount.ToString(CultureInfo.InvariantCulture),
        ["Aspire:StackExchange:Redis:DisableTracing"] = "true",
    };
}
