namespace Coordination;

/// <summary>
/// Redis could not serve the call: the connection is down, the call timed out, or the circuit breaker is open.
/// The inner exception, when present, is the original failure.
/// </summary>
public sealed class CoordinationUnavailableException : CoordinationException
{
    internal CoordinationUnavailableException(string message, UnavailableReason reason, Exception? innerException = null)
        : base(message, innerException)
    {
        Reason = reason;
    }

    /// <summary>Why the call could not be served.</summary>
    public UnavailableReason Reason { get; }
}
