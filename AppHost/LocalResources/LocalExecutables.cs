using System.ComponentModel;
using System.Diagnostics;

namespace Coordination.AppHost.LocalResources;

/// <summary>Finding and briefly running programs of this machine.</summary>
internal static class LocalExecutables
{
    /// <summary>Finds an executable file on PATH.</summary>
    /// <param name="fileName">The program's file name, e.g. <c>redis-server</c>.</param>
    /// <returns>The full path, or <see langword="null"/> when no PATH entry holds it.</returns>
    public static string? FindOnPath(string fileName)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs a program to completion, bounded by <paramref name="timeout"/>.</summary>
    /// <param name="fileName">The program to run.</param>
    /// <param name="arguments">Its command line arguments.</param>
    /// <param name="timeout">How long to wait before killing it.</param>
    /// <param name="failure">Why the run failed, when it did.</param>
    /// <returns>Its standard output when it exited with 0; <see langword="null"/> otherwise.</returns>
    public static string? RunAndCapture(string fileName, string arguments, TimeSpan timeout, out string failure)
    {
        var startInfo = new ProcessStartInfo(fileName, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };

        using var process = new Process { StartInfo = startInfo };
        var output = new System.Text.StringBuilder();
        // Drain both pipes asynchronously so a talkative program can never block on a full pipe.
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (output)
                {
                    output.AppendLine(e.Data);
                }
            }
        };
        process.ErrorDataReceived += static (_, _) => { };

        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            failure = $"could not start ({ex.Message})";
            return null;
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        if (!process.WaitForExit(timeout))
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited between the timeout and the kill.
            }

            failure = $"no answer within {timeout.TotalSeconds:0} s";
            return null;
        }

        // The parameterless overload also waits for the asynchronous readers to finish.
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            failure = $"exited with {process.ExitCode}";
            return null;
        }

        failure = string.Empty;
        lock (output)
        {
            return output.ToString();
        }
    }
}
