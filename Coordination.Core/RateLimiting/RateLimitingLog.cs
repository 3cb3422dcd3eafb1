using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Log events of rate limiting (EventId 1700-1799; names are frozen once shipped).</summary>
internal static partial class RateLimitingLog
{
    [LoggerMessage(1700, LogLevel.Debug, "Rate-limit policy {Policy} was set: {Algorithm}, {Limit} per {Period}, burst {Burst}.", EventName = "RateLimitPolicySet")]
    public static partial void PolicySet(ILogger logger, string policy, RateLimitAlgorithm algorithm, long limit, TimeSpan period, long? burst);

    [LoggerMessage(1701, LogLevel.Debug, "Tenant {Tenant}'s override of rate-limit policy {Policy} was set: {Algorithm}, {Limit} per {Period}, burst {Burst}.", EventName = "RateLimitOverrideSet")]
    public static partial void OverrideSet(ILogger logger, string policy, string tenant, RateLimitAlgorithm algorithm, long limit, TimeSpan period, long? burst);

    [LoggerMessage(1702, LogLevel.Warning, "A rate-limit {Bound} change was refused: the bound of {Limit} is reached.", EventName = "RateLimitPolicyBoundReached")]
    public static partial void BoundReached(ILogger logger, string bound, long limit);

    [LoggerMessage(1710, LogLevel.Debug, "Rate-limit policies read from Redis: version {Version}, {Count} policies.", EventName = "RateLimitPoliciesRefreshed")]
    public static partial void PoliciesRefreshed(ILogger logger, long version, int count);

    [LoggerMessage(1711, LogLevel.Warning, "{Count} rate-limit definitions stored in Redis could not be read and are ignored (written by a newer version, or changed by hand).", EventName = "RateLimitPolicyUnreadable")]
    public static partial void PolicyUnreadable(ILogger logger, int count);

    [LoggerMessage(1720, LogLevel.Debug, "A {Algorithm} rate-limit decision of tenant {Tenant} could not be made: Redis is unavailable.", EventName = "RateLimitRedisUnavailable")]
    public static partial void RedisUnavailable(ILogger logger, string tenant, RateLimitAlgorithm algorithm, Exception exception);

    [LoggerMessage(1721, LogLevel.Debug, "A rate-limit request of tenant {Tenant} asked for {Permits} permits, more than policy {Policy} ever allows at once; refused.", EventName = "RateLimitPermitsOverCapacity")]
    public static partial void PermitsOverCapacity(ILogger logger, string tenant, string policy, int permits);

    [LoggerMessage(1722, LogLevel.Warning, "Redis is unavailable: rate-limit decisions are made on this node, each admitting its share of a limit (limit / {NodeCount}), until Redis answers again.", EventName = "RateLimitDecidingLocally")]
    public static partial void DecidingLocally(ILogger logger, int nodeCount, Exception exception);

    [LoggerMessage(1723, LogLevel.Information, "Redis answers again: rate-limit decisions are made in Redis again.", EventName = "RateLimitDecidingInRedisAgain")]
    public static partial void DecidingInRedisAgain(ILogger logger);
}
