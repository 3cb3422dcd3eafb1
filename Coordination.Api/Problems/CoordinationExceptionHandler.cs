using System.Globalization;
using Coordination.Api.Authentication;
using Coordination.Api.Validation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Coordination.Api.Problems;

/// <summary>
/// Maps a request body that could not be bound (<see cref="BadHttpRequestException"/>, see
/// <see cref="RequestBodyProblems"/>) and the library's documented exceptions to problem details, once for every
/// endpoint: <see cref="ArgumentException"/> to 400 (the field named), <see cref="CoordinationUnavailableException"/> to 503
/// with <c>Retry-After</c>, and the lock exceptions to 409 (<see cref="LockProblems"/>): <see cref="LockNotHeldException"/>
/// <c>lock-not-held</c>, <see cref="DeadlockDetectedException"/> <c>deadlock-detected</c>,
/// <see cref="LockTimeoutException"/> <c>lock-not-acquired</c>, <see cref="LockHierarchyViolationException"/>
/// <c>hierarchy-violation</c>, <see cref="LockWaitersExceededException"/> 429 <c>too-many-waiters</c> (the tenant's bound) or
/// 409 <c>lock-queue-full</c> (the lock's); <see cref="CoordinationQuotaExceededException"/> to 429 <c>quota-exceeded</c>; <see cref="SessionVersionConflictException"/> to 412 <c>version-conflict</c>.
/// Anything else is left to the default 500 answer.
/// </summary>
internal sealed partial class CoordinationExceptionHandler(
    IProblemDetailsService problemDetails,
    IOptions<CoordinationOptions> options,
    ICoordinatorFactory coordinators,
    ILogger<CoordinationExceptionHandler> logger) : IExceptionHandler
{
    private const long DefaultRetryAfterMs = 1000;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ProblemDetails problem;
        switch (exception)
        {
            case BadHttpRequestException badRequest:
                LogBodyRejected(logger, badRequest.StatusCode);
                problem = RequestBodyProblems.Create(httpContext, badRequest);
                break;

            case ArgumentException argument:
                var field = FieldOf(argument.ParamName);
                LogRejected(logger, field);
                var errors = new RequestErrors();
                errors.Add(field, MessageOf(argument));
                problem = errors.ToProblemDetails();
                break;

            case CoordinationUnavailableException unavailable:
                // The client's message can name the Redis key: the exception goes to Debug only.
                LogUnavailable(logger, unavailable.Reason);
                LogUnavailableDetail(logger, unavailable);
                var retryAfter = Math.Max(1, (int)Math.Ceiling(options.Value.Resilience.BreakDuration.TotalSeconds));
                httpContext.Response.Headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
                problem = new ProblemDetails
                {
                    Type = ProblemTypes.Unavailable,
                    Title = "Coordination is unavailable",
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Detail = "Redis cannot serve the call now and it has no fallback. Retry later.",
                    Extensions = { ["reason"] = ReasonOf(unavailable.Reason) },
                };
                break;

            case CoordinationQuotaExceededException quota:
                problem = new ProblemDetails
                {
                    Type = ProblemTypes.QuotaExceeded,
                    Title = "Quota exceeded",
                    Status = StatusCodes.Status429TooManyRequests,
                    Detail = "The tenant is at its quota: delete some of its state, or let it expire, before creating more.",
                    Extensions = { ["quota"] = quota.Quota, ["limit"] = quota.Limit },
                };
                break;

            case SessionVersionConflictException conflict:
                problem = new ProblemDetails
                {
                    Type = ProblemTypes.VersionConflict,
                    Title = "Version conflict",
                    Status = StatusCodes.Status412PreconditionFailed,
                    Detail = "The session changed since the version named in If-Match: read it again and reapply the change.",
                    Extensions = { ["currentVersion"] = conflict.ActualVersion },
                };
                break;

            case RateLimitPolicyNotFoundException notFound:
                problem = Apis.RateLimitApi.PolicyNotFound(notFound.Policy);
                break;

            case LockNotHeldException:
                problem = LockProblems.NotHeld();
                break;

            case DeadlockDetectedException deadlock:
                problem = LockProblems.Deadlock(deadlock);
                break;

            case LockWaitersExceededException exceeded:
                problem = LockProblems.WaitersExceeded(httpContext.Response, exceeded);
                break;

            case LockHierarchyViolationException violation:
                problem = LockProblems.HierarchyViolation(violation);
                break;

            case LockRecursionException:
                // The owner named in the request reads the lock (a library client of the tenant took the read side):
                // it cannot also write it. Over HTTP that is one more way of the lock being taken.
                problem = LockProblems.NotAcquired(httpContext.Response, DefaultRetryAfterMs);
                break;

            case LockTimeoutException timeout:
                problem = LockProblems.NotAcquired(httpContext.Response, await RetryAfterMsAsync(httpContext, timeout.Name, cancellationToken));
                break;

            default:
                return false;
        }

        if (problem.Status == StatusCodes.Status409Conflict)
        {
            LogLockConflict(logger, problem.Type);
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    // The hint is a courtesy: when Redis cannot say who holds the lock, a second is as good a guess as any.
    private async ValueTask<long> RetryAfterMsAsync(HttpContext httpContext, string name, CancellationToken cancellationToken)
    {
        try
        {
            return await LockProblems.RetryAfterMsAsync(coordinators.ForTenant(httpContext.User.GetTenant()).Locks, name, cancellationToken);
        }
        catch (Exception ex) when (ex is CoordinationUnavailableException or InvalidOperationException)
        {
            return DefaultRetryAfterMs;
        }
    }

    // The library names its parameters after the .NET API; the errors map names the JSON field.
    private static string FieldOf(string? parameterName) => parameterName switch
    {
        "timeToLive" => "ttlMs",
        "patch" => "data",
        "options" => "body",
        "definition" => "body",
        null or "" => "body",
        _ => parameterName,
    };

    private static string MessageOf(ArgumentException exception)
    {
        var message = exception is ArgumentOutOfRangeException { ActualValue: not null } outOfRange
            ? outOfRange.Message.Split(Environment.NewLine)[0]
            : exception.Message;
        var suffix = $" (Parameter '{exception.ParamName}')";
        return message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    private static string ReasonOf(UnavailableReason reason) => reason switch
    {
        UnavailableReason.ConnectionFailed => "connection-failed",
        UnavailableReason.Timeout => "timeout",
        UnavailableReason.CircuitOpen => "circuit-open",
        UnavailableReason.ServerUnavailable => "server-unavailable",
        UnavailableReason.ReplicasNotAcknowledged => "replicas-not-acknowledged",
        UnavailableReason.OutOfMemory => "out-of-memory",
        UnavailableReason.DurableCopyNotConfirmed => "durable-copy-not-confirmed",
        _ => "unknown",
    };

    [LoggerMessage(EventId = 100, EventName = "RequestRejected", Level = LogLevel.Debug, Message = "The library rejected the request's {Field}.")]
    private static partial void LogRejected(ILogger logger, string field);

    [LoggerMessage(EventId = 104, EventName = "RequestBodyRejected", Level = LogLevel.Debug, Message = "The request body could not be bound ({StatusCode}).")]
    private static partial void LogBodyRejected(ILogger logger, int statusCode);

    [LoggerMessage(EventId = 101, EventName = "CoordinationUnavailable", Level = LogLevel.Warning, Message = "Answered 503: coordination is unavailable ({Reason}).")]
    private static partial void LogUnavailable(ILogger logger, UnavailableReason reason);

    [LoggerMessage(EventId = 102, EventName = "CoordinationUnavailableDetail", Level = LogLevel.Debug, Message = "The failure behind the 503.")]
    private static partial void LogUnavailableDetail(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 103, EventName = "LockConflict", Level = LogLevel.Debug, Message = "Answered 409 {ProblemType}.")]
    private static partial void LogLockConflict(ILogger logger, string? problemType);
}
