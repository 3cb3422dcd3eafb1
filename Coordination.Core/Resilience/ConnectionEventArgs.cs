namespace Coordination;

/// <summary>Describes a change of a pooled connection's link to Redis.</summary>
public sealed class ConnectionEventArgs : EventArgs
{
    /// <summary>Creates the event data.</summary>
    public ConnectionEventArgs(int connectionId, string? endpoint, string failureType, Exception? exception)
    {
        ConnectionId = connectionId;
        Endpoint = endpoint;
        FailureType = failureType;
        Exception = exception;
    }

    /// <summary>The pool's number for the connection.</summary>
    public int ConnectionId { get; }

    /// <summary>The Redis endpoint, when known.</summary>
    public string? Endpoint { get; }

    /// <summary>The client's name for the kind of failure (<c>None</c> on restore).</summary>
    public string FailureType { get; }

    /// <summary>The failure, when one was reported.</summary>
    public Exception? Exception { get; }
}
