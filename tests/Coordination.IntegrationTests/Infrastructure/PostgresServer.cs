using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// A throwaway PostgreSQL cluster: <c>initdb</c> into a temp folder (as the <c>postgres</c> user when the tests run as
/// root, since PostgreSQL refuses root), <c>postgres</c> on a free loopback port with fsync off, one database
/// <see cref="DatabaseName"/>. Disposing shuts it down (immediate mode, then SIGKILL) and deletes the folder.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string DatabaseName = "coordinationdb";
    private const string ServiceUser = "postgres";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly string _root;
    private readonly string _binDirectory;
    private readonly Queue<string> _log = new();
    private Process? _process;

    private PostgresServer(string root, string binDirectory, int port)
    {
        _root = root;
        _binDirectory = binDirectory;
        Port = port;
    }

    public int Port { get; }

    private string DataDirectory => Path.Combine(_root, "data");

    private string SocketDirectory => Path.Combine(_root, "sock");

    /// <summary>The connection string of <see cref="DatabaseName"/> (trust authentication).</summary>
    public string ConnectionString => ConnectionStringFor(DatabaseName);

    public string ConnectionStringFor(string database) =>
        $"Host=127.0.0.1;Port={Port};Username={ServiceUser};Database={database};Timeout=5;Command Timeout=15";

    public static async Task<PostgresServer> StartAsync(CancellationToken cancellationToken = default)
    {
        var bin = FindBinDirectory();
        var root = Directory.CreateTempSubdirectory("coord-it-pg-").FullName;
        var server = new PostgresServer(root, bin, ProcessUtil.GetFreePort());
        try
        {
            await server.InitializeAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        var process = _process;
        _process = null;
        if (process is not null)
        {
            try
            {
                if (!process.HasExited)
                {
                    // SIGQUIT: immediate shutdown, the postmaster takes its backends down with it.
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

        NpgsqlConnection.ClearAllPools();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
        }
    }

    private async Task InitializeAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(DataDirectory);
        Directory.CreateDirectory(SocketDirectory);
        if (ProcessUtil.IsRoot)
        {
            await ProcessUtil.RunAsync("chown", ["-R", $"{ServiceUser}:{ServiceUser}", _root], TimeSpan.FromSeconds(10), cancellationToken);
        }

        string[] initdb = [Path.Combine(_binDirectory, "initdb"), "-D", DataDirectory, "-U", ServiceUser, "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"];
        if (ProcessUtil.IsRoot)
        {
            await ProcessUtil.RunAsync("runuser", ["-u", ServiceUser, "--", .. initdb], TimeSpan.FromSeconds(60), cancellationToken);
        }
        else
        {
            await ProcessUtil.RunAsync(initdb[0], initdb[1..], TimeSpan.FromSeconds(60), cancellationToken);
        }

        string[] postgres =
        [
            Path.Combine(_binDirectory, "postgres"), "-D", DataDirectory, "-p", Port.ToString(CultureInfo.InvariantCulture),
            "-k", SocketDirectory, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=200",
        ];

        // setpriv execs in place (runuser would fork), so the process we hold is the postmaster itself.
        var startInfo = ProcessUtil.IsRoot
            ? new ProcessStartInfo("setpriv")
            : new ProcessStartInfo(postgres[0]);
        if (ProcessUtil.IsRoot)
        {
            foreach (var argument in new[] { $"--reuid={ServiceUser}", $"--regid={ServiceUser}", "--init-groups", "--" })
            {
                startInfo.ArgumentList.Add(argument);
            }

            startInfo.ArgumentList.Add(postgres[0]);
        }

        foreach (var argument in postgres[1..])
        {
            startInfo.ArgumentList.Add(argument);
        }

        startInfo.UseShellExecute = false;
        startInfo.RedirectStandardOutput = true;
        startInfo.RedirectStandardError = true;
        startInfo.WorkingDirectory = _root;
        _process = Process.Start(startInfo) ?? throw new InvalidOperationException("postgres did not start.");
        ChildProcesses.Track(_process);

        // The server logs to stderr: keep the tail for failure messages instead of flooding the test output.
        _process.OutputDataReceived += (_, e) => KeepLog(e.Data);
        _process.ErrorDataReceived += (_, e) => KeepLog(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"postgres exited with {_process.ExitCode}: {LogTail}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(ConnectionStringFor("postgres"));
                await connection.OpenAsync(cancellationToken);
                await using var command = new NpgsqlCommand($"CREATE DATABASE {DatabaseName}", connection);
                await command.ExecuteNonQueryAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException) when (Stopwatch.GetElapsedTime(started) < StartTimeout)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    private string LogTail
    {
        get
        {
            lock (_log)
            {
                return string.Join(Environment.NewLine, _log);
            }
        }
    }

    private void KeepLog(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Enqueue(line);
            while (_log.Count > 20)
            {
                _log.Dequeue();
            }
        }
    }

    private static string FindBinDirectory()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => (Version: int.TryParse(Path.GetFileName(d).Split('.')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : -1, Bin: Path.Combine(d, "bin")))
                .Where(c => File.Exists(Path.Combine(c.Bin, "postgres")))
                .OrderByDescending(c => c.Version)
                .Select(c => c.Bin)
            : [];
        var bin = candidates.FirstOrDefault();
        if (bin is not null)
        {
            return bin;
        }

        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            if (File.Exists(Path.Combine(directory, "initdb")) && File.Exists(Path.Combine(directory, "postgres")))
            {
                return directory;
            }
        }

        throw new InvalidOperationException("PostgreSQL binaries (initdb, postgres) were found neither under /usr/lib/postgresql/*/bin nor on PATH.");
    }
}
