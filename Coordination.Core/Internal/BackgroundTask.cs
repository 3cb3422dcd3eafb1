using Microsoft.Extensions.Logging;

namespace Coordination;

/// <summary>Work the caller does not wait for, whose failure must still be seen (logged, never unobserved).</summary>
internal static class BackgroundTask
{
    /// <summary>Logs <paramref name="task"/>'s failure through <paramref name="log"/> when it fails; nothing otherwise.</summary>
    public static void LogFailure(this Task task, ILogger logger, Action<ILogger, Exception> log) =>
        task.ContinueWith(
            static (t, state) =>
            {
                var (logger, log) = ((ILogger, Action<ILogger, Exception>))state!;
                log(logger, t.Exception!.GetBaseException());
            },
            (logger, log),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
}
