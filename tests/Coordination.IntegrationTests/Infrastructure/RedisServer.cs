using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// A real <c>redis-server</c> on a free loopback port, without persistence. Supports the faults the tests inject:
/// <see cref="KillAsync"/> (SIGKILL, a crash), <see cref="RestartAsync"/> (same port, empty data),
/// <see cref="PauseAsync"/> (SIGSTOP, a hang: sockets stay open and nothing answers) and <see cref="ResumeAsync"/>.
/// Disposing kills the process whatever state it is in.
/// </summary>
/// <remarks>
/// With the environment variable <c>COORDINATION_TEST_REDIS_SERVER=valkey</c> every server is <c>valkey-server</c>
/// (<see cref="RedisPrograms"/>). With <c>COORDINATION_TEST_REDIS_SERVER=garnet</c>, the servers that are not Cluster nodes
/// are Garnet instead (the <c>garnet-server</c> dotnet tool, from PATH or <c>~/.dotnet/tools</c>; install it with
/// <c>dotnet tool install -g garnet-server --version 2.2.12</c>), started with Lua in transaction mode as the AppHost's
/// embedded mode runs it: to find out which capabilities Garnet serves (docs/operations.md, "Garnet").
/// </remarks>
public sealed class RedisServer : IRedisTarget, IAsyncDisposable
{
    /// <summary>The environment variable that chooses another server: unset or <c>redis</c>, <c>valkey</c>, or <c>garnet</c>.</summary>
    public const string ServerVariable = "COORDINATION_TEST_REDIS_SERVER";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);
    private readonly string _directory;
    private readonly string[] _extraArguments;
    private Process? _process;
    private readonly AdminConnection _admin = new();

    private RedisServer(int port, string directory, string[] extraArguments)
    {
        Port = port;
        _directory = directory;
        _extraArguments = extraArguments;
    }

    public int Port { get; private set; }

    /// <summary>The connection string for StackExchange.Redis and <c>ConnectionStrings:redis</c>.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    public int? ProcessId => _process is { HasExited: false } p ? p.Id : null;

    public static Task<RedisServer> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync([], ProcessUtil.GetFreePort, cancellationToken);

    /// <summary>
    /// A node for a Redis Cluster (<see cref="RedisCluster"/>): cluster mode on, its node file in its own directory,
    /// on a port whose cluster bus port (+10000) is valid and was free too.
    /// </summary>
    public static Task<RedisServer> StartClusterNodeAsync(CancellationToken cancellationToken = default) =>
        StartAsync(["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"], ProcessUtil.GetFreeClusterPort, cancellationToken);

    /// <summary>A cluster node that declares a silent peer failed after <paramref name="nodeTimeout"/> (a replica then takes over its slots).</summary>
    public static Task<RedisServer> StartClusterNodeAsync(TimeSpan nodeTimeout, CancellationToken cancellationToken = default) =>
        StartAsync(
            ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", ((long)nodeTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)],
            ProcessUtil.GetFreeClusterPort,
            cancellationToken);

    /// <summary>
    /// A replica of <paramref name="primary"/> (for <see cref="RedisSentinelGroup"/>); one that is not
    /// <paramref name="promotable"/> has <c>replica-priority 0</c>, so the sentinels never elect it.
    /// </summary>
    public static Task<RedisServer> StartReplicaAsync(RedisServer primary, bool promotable = true, CancellationToken cancellationToken = default) =>
        StartAsync(
            ["--replicaof", "127.0.0.1", primary.Port.ToString(CultureInfo.InvariantCulture), .. promotable ? Array.Empty<string>() : ["--replica-priority", "0"]],
            ProcessUtil.GetFreePort,
            cancellationToken);

    private static async Task<RedisServer> StartAsync(string[] extraArguments, Func<int> freePort, CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("coord-it-redis-").FullName;
        Exception? last = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var server = new RedisServer(freePort(), directory, extraArguments);
            try
            {
                await server.LaunchAsync(cancellationToken);
                return server;
            }
            catch (InvalidOperationException ex)
            {
                // Most likely the port was taken between probing and binding: try another one.
                last = ex;
                await server.StopProcessAsync();
            }
            catch
            {
                await server.DisposeAsync();
                throw;
            }
        }

        Directory.Delete(directory, recursive: true);
        throw new InvalidOperationException("redis-server could not be started.", last);
    }

    /// <summary>A connection with admin commands allowed (CLIENT KILL, DEBUG, ...), separate from the ones under test.</summary>
    public Task<ConnectionMultiplexer> GetAdminAsync() => _admin.GetAsync(ConnectionString);

    /// <summary>Crashes the server with SIGKILL and waits for the process to be gone.</summary>
    public async Task KillAsync()
    {
        await StopProcessAsync();
        await _admin.DisposeAsync();
    }

    /// <summary>Starts a fresh (empty) server on the same port and waits until it answers PING.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopProcessAsync();
        Exception? last = null;
        var deadline = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(deadline) < StartTimeout)
        {
            try
            {
                await LaunchAsync(cancellationToken);
                return;
            }
            catch (InvalidOperationException ex)
            {
                // The port can need a moment after the crash; same port is the point of a restart.
                last = ex;
                await StopProcessAsync();
                await Task.Delay(100, cancellationToken);
            }
            catch
            {
                await StopProcessAsync();
                throw;
            }
        }

        throw new InvalidOperationException($"redis-server could not be restarted on port {Port}.", last);
    }

    /// <summary>SIGSTOP: the process keeps its sockets but answers nothing.</summary>
    public Task PauseAsync() => ProcessUtil.SignalAsync(RequireProcess().Id, "STOP");

    /// <summary>SIGCONT after <see cref="PauseAsync"/>.</summary>
    public Task ResumeAsync() => ProcessUtil.SignalAsync(RequireProcess().Id, "CONT");

    public async ValueTask DisposeAsync()
    {
        await _admin.DisposeAsync();

        await StopProcessAsync();
        try
        {
            KeptLogs.Keep(Path.Combine(_directory, "redis.log"), $"redis-{Port}.log");
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static bool UsesGarnet =>
        string.Equals(Environment.GetEnvironmentVariable(ServerVariable), "garnet", StringComparison.OrdinalIgnoreCase);

    private static string GarnetServerPath()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Append(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".dotnet", "tools")))
        {
            var candidate = Path.Combine(directory, "garnet-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            $"{ServerVariable}=garnet needs the garnet-server dotnet tool: dotnet tool install -g garnet-server --version 2.2.12");
    }

    private Process RequireProcess() =>
        _process is { HasExited: false } process ? process : throw new InvalidOperationException("redis-server is not running.");

    private async Task LaunchAsync(CancellationToken cancellationToken)
    {
        var garnet = UsesGarnet && _extraArguments.Length == 0;
        var startInfo = new ProcessStartInfo(garnet ? GarnetServerPath() : RedisPrograms.Server)
        {
            UseShellExecute = false,
            RedirectStandardOutput = false,
            RedirectStandardError = false,
            WorkingDirectory = _directory,
        };
        string[] arguments = garnet
            ? [
                "--port", Port.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1",
                "--lua", "--lua-transaction-mode",
                "-m", "256m",
                "--index", "16m",
                // Checkpoints (SAVE) through .NET's file I/O into the server's folder: Garnet's default native device
                // needs libaio, which a fresh Debian has not.
                "--device-type", "RandomAccess",
                "--checkpointdir", _directory,
                // Like redis-server, which loads the dump.rdb of its folder at start.
                "--recover",
                "-q",
            ]
            : [
                "--port", Port.ToString(CultureInfo.InvariantCulture),
                "--bind", "127.0.0.1",
                "--save", string.Empty,
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", _directory,
                "--logfile", Path.Combine(_directory, "redis.log"),
                .. _extraArguments,
            ];
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("redis-server did not start.");
        _process = process;
        ChildProcesses.Track(process);

        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with {process.ExitCode} on port {Port}: {ReadLogTail()}");
            }

            if (await PingAsync(cancellationToken))
            {
                return;
            }

            if (Stopwatch.GetElapsedTime(started) > StartTimeout)
            {
                throw new InvalidOperationException($"redis-server did not answer PING on port {Port} within {StartTimeout}: {ReadLogTail()}");
            }

            await Task.Delay(20, cancellationToken);
        }
    }

    private async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromMilliseconds(500));
            await client.ConnectAsync("127.0.0.1", Port, timeout.Token);
            var stream = client.GetStream();
            // A RESP array, not an inline command: Garnet reads only the former.
            await stream.WriteAsync("*1\r\n$4\r\nPING\r\n"u8.ToArray(), timeout.Token);
            var buffer = new byte[64];
            var read = await stream.ReadAsync(buffer, timeout.Token);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception ex) when (ex is SocketException or IOException or OperationCanceledException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            return false;
        }
    }

    private async Task StopProcessAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        ProcessUtil.TryKill(process);
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }

        ChildProcesses.Untrack(process);
        process.Dispose();
    }

    private string ReadLogTail()
    {
        try
        {
            var lines = File.ReadAllLines(Path.Combine(_directory, "redis.log"));
            return string.Join(Environment.NewLine, lines.TakeLast(10));
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }
}
