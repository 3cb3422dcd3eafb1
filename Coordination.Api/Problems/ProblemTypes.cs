namespace Coordination.Api.Problems;

/// <summary>The stable <c>type</c> URIs of the API's problem details. Clients may switch on them: never change one.</summary>
public static class ProblemTypes
{
    private const string Base = "https://coordination.dev/errors/";

    /// <summary>400: a field of the request is invalid; the <c>errors</c> map names it.</summary>
    public const string Validation = Base + "validation";

    /// <summary>404: the key, lock, session or policy does not exist.</summary>
    public const string NotFound = Base + "not-found";

    /// <summary>401: no API key, or an unknown one.</summary>
    public const string Unauthorized = Base + "unauthorized";

    /// <summary>403: the API key's role is too low for the call.</summary>
    public const string Forbidden = Base + "forbidden";

    /// <summary>
    /// 429: too many requests with an invalid <c>X-Api-Key</c> came from the caller's address; every keyed request from
    /// it is refused until <c>Retry-After</c> has passed.
    /// </summary>
    public const string TooManyAuthenticationFailures = Base + "too-many-authentication-failures";

    /// <summary>
    /// 429: the tenant has more requests in progress and waiting on the replica than <c>Coordination:TenantConcurrency</c>
    /// allows; nothing was done. Retry after <c>Retry-After</c>.
    /// </summary>
    public const string TooManyRequests = Base + "too-many-requests";

    /// <summary>
    /// 429: the tenant sent more requests than its request policy allows (<c>Coordination:Api:RateLimit:Policy</c>, or
    /// the tenant's override of it); nothing was done. <c>Retry-After</c> says when to retry, <c>RateLimit-Limit</c>,
    /// <c>RateLimit-Remaining</c> and <c>RateLimit-Reset</c> give the allowance (allowed answers carry them too).
    /// </summary>
    public const string RateLimited = Base + "rate-limited";

    /// <summary>
    /// 429: the call would create more state than the tenant's quota allows (<c>quota</c> names it, <c>limit</c> gives
    /// its size, e.g. <c>keys</c>: <c>Coordination:Quotas:MaxKeysPerTenant</c>; <c>lock-names</c>: <c>Coordination:Quotas:MaxLockNamesPerTenant</c>). Nothing was stored; no
    /// <c>Retry-After</c>: room comes back only when the tenant deletes state or some of it expires.
    /// </summary>
    public const string QuotaExceeded = Base + "quota-exceeded";

    /// <summary>
    /// 412: the session's version is not the one <c>If-Match</c> named (another update came first); nothing changed.
    /// <c>currentVersion</c> gives the version now: read the session again, reapply the change, send it with that version.
    /// </summary>
    public const string VersionConflict = Base + "version-conflict";

    /// <summary>503: Redis is unavailable and the call has no fallback; retry after <c>Retry-After</c>.</summary>
    public const string Unavailable = Base + "unavailable";

    /// <summary>
    /// 409: the lock was not acquired within <c>waitMs</c>; <c>retryAfterMs</c> (and <c>Retry-After</c>) says when its
    /// hold expires. Also when the request names the holder's <c>owner</c> without that hold's <c>token</c>: the hold
    /// is someone else's until the token is shown. Never carries a token or fencing token.
    /// </summary>
    public const string LockNotAcquired = Base + "lock-not-acquired";

    /// <summary>409: the token does not hold the lock (expired, released, someone else's, or never issued). Nothing changed.</summary>
    public const string LockNotHeld = Base + "lock-not-held";

    /// <summary>409: waiting for the lock would close a cycle of owners waiting for each other; <c>cycle</c> names it.</summary>
    public const string DeadlockDetected = Base + "deadlock-detected";

    /// <summary>
    /// 429: the tenant already has as many callers waiting for its locks as it may
    /// (<c>Coordination:Locks:MaxWaitersPerTenant</c>); the request was not queued. Retry after <c>Retry-After</c>.
    /// </summary>
    public const string TooManyWaiters = Base + "too-many-waiters";

    /// <summary>
    /// 409: the lock already has as many waiters as it may (<c>Coordination:Locks:MaxWaitersPerLock</c>); the request
    /// was not queued. Retry after <c>Retry-After</c>.
    /// </summary>
    public const string LockQueueFull = Base + "lock-queue-full";

    /// <summary>409: the lock's level is not above every level its owner holds.</summary>
    public const string HierarchyViolation = Base + "hierarchy-violation";
}
