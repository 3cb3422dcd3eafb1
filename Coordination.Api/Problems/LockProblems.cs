using System.Globalization;
using Coordination.Api.Models;
using Microsoft.AspNetCore.Mvc;

namespace Coordination.Api.Problems;

/// <summary>
/// The 409 answers of the lock endpoints, built in one place so the endpoints (a lock not acquired in time is an
/// answer, not an exception) and <see cref="CoordinationExceptionHandler"/> (the library's exceptions) agree.
/// Lock names and owners belong to the caller's own tenant, so the problems may name them.
/// </summary>
internal static class LockProblems
{
    /// <summary>409 <c>lock-not-acquired</c> with <c>retryAfterMs</c>, and <c>Retry-After</c> (whole seconds, rounded up) on <paramref name="response"/>.</summary>
    public static ProblemDetails NotAcquired(HttpResponse response, long retryAfterMs)
    {
        response.Headers.RetryAfter = ((retryAfterMs + 999) / 1000).ToString(CultureInfo.InvariantCulture);
        return new ProblemDetails
        {
            Type = ProblemTypes.LockNotAcquired,
            Title = "Lock not acquired",
            Status = StatusCodes.Status409Conflict,
            Detail = "Another holder has the lock and did not release it within waitMs (a hold of the owner named in the request counts unless the request carries that hold's token). retryAfterMs says when its hold expires unless extended (it may be released sooner).",
            Extensions = { ["retryAfterMs"] = retryAfterMs },
        };
    }

    /// <summary>409 <c>lock-not-held</c>.</summary>
    public static ProblemDetails NotHeld() => new()
    {
        Type = ProblemTypes.LockNotHeld,
        Title = "Lock not held",
        Status = StatusCodes.Status409Conflict,
        Detail = "The token does not hold this lock: it expired, was released, belongs to another lock, or was never issued. Nothing changed.",
    };

    /// <summary>409 <c>deadlock-detected</c> with the <c>cycle</c> of owners and the locks they wait for.</summary>
    public static ProblemDetails Deadlock(DeadlockDetectedException exception) => new()
    {
        Type = ProblemTypes.DeadlockDetected,
        Title = "Deadlock detected",
        Status = StatusCodes.Status409Conflict,
        Detail = $"Waiting for the lock would close a cycle of {exception.Cycle.Count} owners each waiting for a lock the next one holds. The request was not queued: release a lock the owner holds (or retry later) so the others can proceed.",
        Extensions = { ["cycle"] = exception.Cycle.Select(e => new LockWaitResponse(e.Owner, e.Name)).ToArray() },
    };

    /// <summary>409 <c>hierarchy-violation</c> with the requested level and the held lock that is not below it.</summary>
    public static ProblemDetails HierarchyViolation(LockHierarchyViolationException exception) => new()
    {
        Type = ProblemTypes.HierarchyViolation,
        Title = "Lock hierarchy violated",
        Status = StatusCodes.Status409Conflict,
        Detail = "The lock's level is not above every level its owner already holds.",
        Extensions =
        {
            ["level"] = exception.Level,
            ["heldName"] = exception.HeldName,
            ["heldLevel"] = exception.HeldLevel,
        },
    };

    /// <summary>
    /// 429 <c>too-many-waiters</c> (the tenant's bound) or 409 <c>lock-queue-full</c> (the lock's), with <c>maxWaiters</c>
    /// and <c>Retry-After</c> (one second: waiters leave as locks are released, which the refusal cannot foresee).
    /// </summary>
    public static ProblemDetails WaitersExceeded(HttpResponse response, LockWaitersExceededException exception)
    {
        response.Headers.RetryAfter = "1";
        var byTenant = exception.Limit == LockWaiterLimit.Tenant;
        return new ProblemDetails
        {
            Type = byTenant ? ProblemTypes.TooManyWaiters : ProblemTypes.LockQueueFull,
            Title = byTenant ? "Too many waiters" : "Lock queue full",
            Status = byTenant ? StatusCodes.Status429TooManyRequests : StatusCodes.Status409Conflict,
            Detail = byTenant
                ? "The tenant already has as many requests waiting for its locks as it may. The request was not queued; retry later or wait less (waitMs)."
                : "The lock already has as many requests waiting for it as it may. The request was not queued; retry later.",
            Extensions = { ["maxWaiters"] = exception.MaxWaiters },
        };
    }

    /// <summary>
    /// The <c>retryAfterMs</c> hint after a refused acquisition: the time to live left on the lock's hold (at least
    /// 1 ms), or 0 when the lock has become free meanwhile.
    /// </summary>
    public static async ValueTask<long> RetryAfterMsAsync(IDistributedLockManager locks, string name, CancellationToken cancellationToken)
    {
        var info = await locks.GetInfoAsync(name, cancellationToken);
        return info is null ? 0 : Math.Max(1, (long)Math.Ceiling(info.TimeToLive.TotalMilliseconds));
    }
}
