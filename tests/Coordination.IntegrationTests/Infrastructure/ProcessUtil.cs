using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>Small, bounded helpers around child processes and ports.</summary>
internal static class ProcessUtil
{
    /// <summary>Whether this test process runs as root (PostgreSQL must then run as another user).</summary>
    public static bool IsRoot => Environment.UserName == "root";

    /// <summary>A loopback port that was free a moment ago (the caller retries when it was taken meanwhile).</summary>
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>
    /// A loopback port below 55536 that was free a moment ago, with the port 10000 above it (a cluster node's bus)
    /// free too.
    /// </summary>
    public static int GetFreeClusterPort()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = Random.Shared.Next(20000, 45000);
            if (IsFree(port) && IsFree(port + 10000))
            {
                return port;
            }

            if (attempt == 100)
            {
                throw new InvalidOperationException("No free port pair for a cluster node was found.");
            }
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Runs a program to completion within <paramref name="timeout"/>; throws with its output when it fails.</summary>
    public static async Task<string> RunAsync(string fileName, IEnumerable<string> arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        using var process = Process.Start(startInfo) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            TryKill(process);
            throw new TimeoutException($"'{fileName} {string.Join(' ', startInfo.ArgumentList)}' did not finish within {timeout}.");
        }

        output.Append(await stdout).Append(await stderr);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{fileName} {string.Join(' ', startInfo.ArgumentList)}' exited with {process.ExitCode}: {output}");
        }

        return output.ToString();
    }

    /// <summary>Sends a signal by name (STOP, CONT, KILL, QUIT, INT) to a process id.</summary>
    public static Task SignalAsync(int pid, string signal) =>
        RunAsync("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(5));

    public static void TryKill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
        }
        catch (System.ComponentModel.Win32Exception)
        {
        }
    }

    /// <summary>Waits until <paramref name="condition"/> holds, polling; throws a <see cref="TimeoutException"/> naming <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what, CancellationToken cancellationToken, TimeSpan? pollInterval = null)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (await condition())
            {
                return;
            }

            if (Stopwatch.GetElapsedTime(started) > timeout)
            {
                throw new TimeoutException($"Timed out after {timeout} waiting for {what}.");
            }

            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(25), cancellationToken);
        }
    }

    public static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken cancellationToken, TimeSpan? pollInterval = null) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what, cancellationToken, pollInterval);
}
