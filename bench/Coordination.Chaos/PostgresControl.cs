using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Coordination.IntegrationTests.Infrastructure;
using Npgsql;

namespace Coordination.Chaos;

/// <summary>
/// Kills and restarts the PostgreSQL cluster a <see cref="PostgresServer"/> started (that fixture cannot restart): the
/// postmaster's pid from <c>postmaster.pid</c>, its command line from <c>postmaster.opts</c>, both in the data folder
/// the server names. A kill is SIGKILL to the postmaster and every child of it (a crash: nothing flushed, crash
/// recovery on the next start). Stops what it restarted when disposed, before the fixture deletes the folder.
/// </summary>
internal sealed partial class PostgresControl(string connectionString, string dataDirectory) : IAsyncDisposable
{
    private static readonly HashSet<string> NonDurable = new(StringComparer.Ordinal) { "fsync=off", "synchronous_commit=off", "full_page_writes=off" };
    private Process? _restarted;

    public static async Task<PostgresControl> AttachAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SHOW data_directory", connection);
        var directory = (string?)await command.ExecuteScalarAsync(cancellationToken) ?? throw new InvalidOperationException("No data_directory.");
        return new PostgresControl(connectionString, directory);
    }

    /// <summary>Whether commits are durable: fsync and synchronous_commit on, as <c>SHOW</c> says.</summary>
    public static async Task<string> DurabilityAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        var settings = new List<string>();
        foreach (var name in new[] { "fsync", "synchronous_commit", "full_page_writes" })
        {
            await using var command = new NpgsqlCommand($"SHOW {name}", connection);
            settings.Add($"{name}={await command.ExecuteScalarAsync(cancellationToken)}");
        }

        return string.Join(", ", settings);
    }

    public static async Task<string> VersionAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand("SHOW server_version", connection);
        return $"PostgreSQL {await command.ExecuteScalarAsync(cancellationToken)}";
    }

    /// <summary>SIGKILL to the postmaster and its children; returns once they are gone.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        var postmaster = int.Parse(File.ReadLines(Path.Combine(dataDirectory, "postmaster.pid")).First().Trim(), CultureInfo.InvariantCulture);
        int[] victims = [postmaster, .. ChildrenOf(postmaster)];
        foreach (var pid in victims)
        {
            try
            {
                using var process = Process.GetProcessById(pid);
                process.Kill();
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone already.
            }
        }

        await ProcessUtil.WaitUntilAsync(() => victims.All(pid => !Directory.Exists($"/proc/{pid}")), TimeSpan.FromSeconds(10), "PostgreSQL's processes to die", cancellationToken);
    }

    /// <summary>
    /// Starts the postmaster again with the command line it last ran with, durability settings the fixture turned off
    /// left out (so they are on), and returns once the database answers.
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        var options = await File.ReadAllTextAsync(Path.Combine(dataDirectory, "postmaster.opts"), cancellationToken);
        var program = options.Split(' ', 2)[0];
        var parsed = QuotedArgument().Matches(options).Select(m => m.Groups[1].Value).ToList();

        // The fixture turns durability off (fsync, synchronous_commit, full_page_writes) to make tests fast; a crash
        // test needs it on, or commits acknowledged just before the kill are lost by PostgreSQL itself.
        var arguments = new List<string>();
        for (var i = 0; i < parsed.Count; i++)
        {
            if (parsed[i] == "-c" && i + 1 < parsed.Count && NonDurable.Contains(parsed[i + 1]))
            {
                i++;
                continue;
            }

            arguments.Add(parsed[i]);
        }

        var startInfo = ProcessUtil.IsRoot ? new ProcessStartInfo("setpriv") : new ProcessStartInfo(program);
        if (ProcessUtil.IsRoot)
        {
            foreach (var argument in new[] { "--reuid=postgres", "--regid=postgres", "--init-groups", "--", program })
            {
                startInfo.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.UseShellExecute = false;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("postgres did not start.");
        ChildProcesses.Track(process);
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _restarted = process;

        NpgsqlConnection.ClearAllPools();
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    await using var connection = new NpgsqlConnection(connectionString);
                    await connection.OpenAsync(cancellationToken);
                    return true;
                }
                catch (NpgsqlException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(30),
            "PostgreSQL to accept connections again",
            cancellationToken,
            TimeSpan.FromMilliseconds(50));
    }

    public async ValueTask DisposeAsync()
    {
        if (_restarted is { } process)
        {
            try
            {
                if (!process.HasExited)
                {
                    await ProcessUtil.SignalAsync(process.Id, "QUIT");
                    await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
                }
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                ProcessUtil.TryKill(process);
            }

            ChildProcesses.Untrack(process);
            process.Dispose();
        }
    }

    private static IEnumerable<int> ChildrenOf(int parent)
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(directory, "stat"));
            }
            catch (IOException)
            {
                continue;
            }

            // pid (comm) state ppid ...: the name may hold spaces, so the fields after its closing parenthesis.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (int.Parse(fields[1], CultureInfo.InvariantCulture) == parent)
            {
                yield return pid;
            }
        }
    }

    [GeneratedRegex("\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex QuotedArgument();
}
