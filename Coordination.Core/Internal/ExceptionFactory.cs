using Polly.CircuitBreaker;
using Polly.Timeout;
using StackExchange.Redis;

namespace Coordination;

/// <summary>Turns client and resilience failures into the library's documented exceptions.</summary>
internal static class ExceptionFactory
{
    public static bool IsTransient(Exception exception) => exception switch
    {
        RedisConnectionException or RedisTimeoutException or TimeoutRejectedException or TimeoutException => true,
        RedisServerException server => IsUnavailableServerError(server),
        _ => false,
    };

    public static CoordinationUnavailableException Unavailable(string operation, Exception exception) => exception switch
    {
        CoordinationUnavailableException unavailable => unavailable,
        BrokenCircuitException => new($"Redis is unavailable: the circuit is open, so '{operation}' was not attempted.", UnavailableReason.CircuitOpen, exception),
        TimeoutRejectedException or RedisTimeoutException or TimeoutException => new($"Redis did not answer '{operation}' in time.", UnavailableReason.Timeout, exception),
        RedisServerException server when IsOutOfMemory(server) => new($"Redis refused '{operation}': it is at its memory limit (OOM).", UnavailableReason.OutOfMemory, exception),
        RedisServerException => new($"Redis cannot serve '{operation}' now ({FirstWord(exception.Message)}).", UnavailableReason.ServerUnavailable, exception),
        _ => new($"Redis is unavailable for '{operation}' ({exception.GetType().Name}).", UnavailableReason.ConnectionFailed, exception),
    };

    public static CoordinationUnavailableException NoConnection(string operation) =>
        new($"No Redis connection is available for '{operation}'.", UnavailableReason.ConnectionFailed);

    public static LockTimeoutException LockTimeout(string name, TimeSpan waitTimeout) =>
        new($"The lock was not acquired within {waitTimeout}.", name, waitTimeout);

    public static DeadlockDetectedException Deadlock(IReadOnlyList<LockWait> cycle) =>
        new($"Waiting for the lock would close a cycle of {cycle.Count} owners waiting for each other (a deadlock); see Cycle.", cycle);

    public static LockWaitersExceededException WaitersExceeded(string name, LockWaiterLimit limit, int maxWaiters) =>
        new(limit == LockWaiterLimit.Tenant
            ? $"The tenant already has {maxWaiters} callers waiting for locks (MaxWaitersPerTenant); the call was not queued."
            : $"The lock already has {maxWaiters} callers waiting for it (MaxWaitersPerLock); the call was not queued.", name, limit, maxWaiters);

    public static LockHierarchyViolationException HierarchyViolation(string name, int level, string heldName, int heldLevel) =>
        new($"A lock of level {level} cannot be taken while its owner holds a lock of level {heldLevel}: levels must rise.", name, level, heldName, heldLevel);

    public static LockNotHeldException LockNotHeld(string name) =>
        new("The token does not hold the lock (it expired, was released, or belongs to another holder).", name);

    public static CoordinationQuotaExceededException KeyQuotaExceeded(long limit) =>
        new($"The tenant has {limit} keys, its quota (Coordination:Quotas:MaxKeysPerTenant): delete some or let them expire before creating more.", "keys", limit);

    public static CoordinationQuotaExceededException LockNameQuotaExceeded(long limit) =>
        new($"The tenant created {limit} lock names within the fencing counters' life (62 days), its quota (Coordination:Quotas:MaxLockNamesPerTenant): reuse names, or wait for the oldest to leave the count.", "lock-names", limit);

    public static CoordinationQuotaExceededException SessionQuotaExceeded(long limit) =>
        new($"The tenant has {limit} sessions, its quota (Coordination:Quotas:MaxSessionsPerTenant): end some (delete, revoke) or let them expire before creating more.", "sessions", limit);

    public static CoordinationQuotaExceededException RateLimitPoliciesExceeded(long limit) =>
        new($"{limit} rate-limit policies are kept, the bound (Coordination:RateLimiting:MaxPolicies): replace an existing policy instead of adding one.", "ratelimit-policies", limit);

    public static CoordinationQuotaExceededException RateLimitOverridesExceeded(long limit) =>
        new($"The policy has {limit} tenant overrides, the bound (Coordination:RateLimiting:MaxOverridesPerPolicy): replace an existing override instead of adding one.", "ratelimit-overrides", limit);

    public static SessionVersionConflictException SessionVersionConflict(long expectedVersion, long actualVersion) =>
        new($"The session has version {actualVersion}, not the expected {expectedVersion}: it changed since it was read; nothing was updated.", expectedVersion, actualVersion);

    public static SessionUpgradeFailedException SessionUpgradeFailed(string message, int fromSchemaVersion, int toSchemaVersion, Exception? cause) =>
        new(message + " The read failed; nothing stored was changed.", fromSchemaVersion, toSchemaVersion, cause);

    public static CoordinationUnavailableException ReplicasNotAcknowledged(int asked, long acknowledged) =>
        new($"Only {acknowledged} of {asked} replicas acknowledged the lock in time; it was released again.", UnavailableReason.ReplicasNotAcknowledged);

    public static CoordinationUnavailableException NoDurableStore(string operation) =>
        new($"'{operation}' asked for synchronous durability, but no PostgreSQL fallback store is configured: nothing was written.", UnavailableReason.DurableCopyNotConfirmed);

    public static CoordinationUnavailableException DurableCopyNotConfirmed(string operation, TimeSpan timeout, Exception? cause) =>
        new($"PostgreSQL did not commit the copy of '{operation}' within {timeout.TotalMilliseconds:0} ms (Coordination:Fallback:SynchronousTimeout): Redis has the write and its copy stays queued, so it may still take effect.", UnavailableReason.DurableCopyNotConfirmed, cause);

    // Messages of our exceptions may reach Warning logs, where keys must not appear: the client's message can
    // name the command and its key, so only the error code is kept (the original stays the inner exception).
    private static string FirstWord(string message)
    {
        var space = message.IndexOf(' ', StringComparison.Ordinal);
        return space < 0 ? message : message[..space];
    }

    /// <summary>Redis refused a write at its memory limit (<c>OOM command not allowed when used memory &gt; 'maxmemory'</c>).</summary>
    public static bool IsOutOfMemory(RedisServerException exception) =>
        exception.Message.StartsWith("OOM", StringComparison.Ordinal) || exception.Message.StartsWith("ERR Error running script", StringComparison.Ordinal) && exception.Message.Contains("OOM", StringComparison.Ordinal);

    public static bool IsClusterDown(Exception exception) =>
        exception is RedisServerException && exception.Message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal);

    private static bool IsUnavailableServerError(RedisServerException exception)
    {
        var message = exception.Message;
        return message.StartsWith("LOADING", StringComparison.Ordinal)
            || message.StartsWith("READONLY", StringComparison.Ordinal)
            || message.StartsWith("BUSY", StringComparison.Ordinal)
            || message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || IsClusterDown(exception);
    }
}
