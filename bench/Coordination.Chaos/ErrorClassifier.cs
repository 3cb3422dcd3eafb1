using System.Net.Sockets;

namespace Coordination.Chaos;

/// <summary>
/// Names a failure and says whether the contract documents it. Expected: <see cref="CoordinationUnavailableException"/>
/// (with its reason) and the documented coordination exceptions of the calls made (a release of a lock that expired
/// meanwhile: <see cref="LockNotHeldException"/>); over HTTP a 503 problem and a connection refused by a replica that
/// was stopped. Anything else is a contract violation.
/// </summary>
internal static class ErrorClassifier
{
    public static (string Type, bool Expected) Classify(Exception exception) => exception switch
    {
        CoordinationUnavailableException unavailable => ($"{nameof(CoordinationUnavailableException)} ({unavailable.Reason})", true),
        LockNotHeldException => (nameof(LockNotHeldException), true),
        HttpStatusException status => ($"HTTP {status.Status}{(status.Reason is null ? string.Empty : $" ({status.Reason})")}", status.Status == 503),
        HttpRequestException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused } } => ("connection refused (stopped replica)", true),
        HttpRequestException http => ($"HttpRequestException ({http.HttpRequestError})", false),
        TaskCanceledException => ("TaskCanceledException (client timeout)", false),
        _ => (exception.GetType().Name, false),
    };
}
