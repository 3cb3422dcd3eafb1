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
        RedisServerException => new($"Redis cannot serve '{operation}' now: {exception.Message}", UnavailableReason.ServerUnavailable, exception),
        _ => new($"Redis is unavailable for '{operation}': {exception.Message}", UnavailableReason.ConnectionFailed, exception),
    };

    public static CoordinationUnavailableException NoConnection(string operation) =>
        new($"No Redis connection is available for '{operation}'.", UnavailableReason.ConnectionFailed);

    private static bool IsUnavailableServerError(RedisServerException exception)
    {
        var message = exception.Message;
        return message.StartsWith("LOADING", StringComparison.Ordinal)
            || message.StartsWith("READONLY", StringComparison.Ordinal)
            || message.StartsWith("BUSY", StringComparison.Ordinal)
            || message.StartsWith("MASTERDOWN", StringComparison.Ordinal)
            || message.StartsWith("TRYAGAIN", StringComparison.Ordinal)
            || message.StartsWith("CLUSTERDOWN", StringComparison.Ordinal);
    }
}
