using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using StackExchange.Redis;

namespace Coordination.Benchmarks;

/// <summary>
/// A redis-server this benchmark started on a free loopback port, without persistence. Killed on dispose. With the
/// environment variable <c>COORDINATION_TEST_REDIS_SERVER=valkey</c> (as for the tests) it is <c>valkey-server</c>.
/// </summary>
internal sealed class RedisServerProcess : IDisposable
{
    /// <summary>The environment variable that chooses the server, shared with the tests: unset or <c>redis</c>, or <c>valkey</c>.</summary>
    public const string ServerVariable = "COORDINATION_TEST_REDIS_SERVER";

    private readonly string _directory;
    private Process? _process;

    private RedisServerProcess(int port, string directory)
    {
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public static async Task<RedisServerProcess> StartAsync(CancellationToken cancellationToken)
    {
        var directory = Directory.CreateTempSubdirectory("coordination-bench-").FullName;
        var server = new RedisServerProcess(FreeLoopbackPort(), directory);
        await server.RestartAsync(cancellationToken);
        return server;
    }

    /// <summary>
    /// Starts a server for the run unless <paramref name="givenEndpoint"/> names one to use (then returns null), and
    /// says which on the console.
    /// </summary>
    public static async Task<RedisServerProcess?> StartUnlessGivenAsync(string? givenEndpoint, CancellationToken cancellationToken)
    {
        var server = givenEndpoint is null ? await StartAsync(cancellationToken) : null;
        Console.WriteLine($"Redis: {givenEndpoint ?? server!.Endpoint} ({(server is null ? "external" : $"{ServerProgram} started by the benchmark")})");
        return server;
    }

    /// <summary>The server program started: <c>redis-server</c>, or <c>valkey-server</c> when <see cref="ServerVariable"/> says <c>valkey</c>.</summary>
    public static string ServerProgram =>
        string.Equals(Environment.GetEnvironmentVariable(ServerVariable), "valkey", StringComparison.OrdinalIgnoreCase) ? "valkey-server" : "redis-server";

    /// <summary>The server a benchmark ran against, for its report: <c>redis-server 7.0.15</c>, <c>valkey-server 8.0.1</c>.</summary>
    /// <remarks>INFO is an admin command: asked on a short connection of its own, so the benchmarked clients keep their settings.</remarks>
    public static string Describe(IServer server)
    {
        using var admin = ConnectionMultiplexer.Connect(new ConfigurationOptions { EndPoints = { server.EndPoint }, AllowAdmin = true });
        return Describe(admin.GetServer(server.EndPoint).Info("server").SelectMany(group => group));
    }

    /// <summary>The server described by the fields of its <c>INFO server</c>.</summary>
    public static string Describe(IEnumerable<KeyValuePair<string, string>> info)
    {
        var fields = info.GroupBy(field => field.Key, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Value, StringComparer.Ordinal);
        // Valkey answers redis_version 7.2.4 for clients that check it, and its own version in valkey_version.
        return fields.TryGetValue("server_name", out var name) && fields.TryGetValue($"{name}_version", out var version)
            ? $"{name}-server {version}"
            : $"redis-server {fields.GetValueOrDefault("redis_version", "unknown")}";
    }

    /// <summary>Starts the server (again) on the same port and returns once it answers PING.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(ServerProgram)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var argument in new[]
        {
            "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
            "--save", string.Empty, "--appendonly", "no", "--dir", _directory, "--loglevel", "warning",
        })
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException($"{ServerProgram} did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        await WaitUntilReadyAsync(TimeSpan.FromSeconds(10), cancellationToken);
    }

    /// <summary>Returns once a raw PING on a fresh socket gets PONG.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            if (await PingAsync(cancellationToken))
            {
                return;
            }

            await Task.Delay(1, cancellationToken);
        }

        throw new TimeoutException($"{ServerProgram} on port {Port} did not answer within {timeout}.");
    }

    /// <summary>SIGKILL: the server dies at once, its sockets are reset, nothing is flushed.</summary>
    public void Kill()
    {
        var process = _process;
        if (process is { HasExited: false })
        {
            process.Kill();
            process.WaitForExit();
        }
    }

    public void Dispose()
    {
        Kill();
        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, cancellationToken);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (SocketException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
