using System.Diagnostics;
using System.Globalization;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// A real Sentinel group on loopback ports: one primary, two replicas (only the first can be elected) and three
/// sentinels (quorum 2) watching service <see cref="ServiceName"/>, which fail over one second after the primary stops
/// answering. Ready when every sentinel sees both replicas and the other two sentinels, and both replicas are in sync.
/// </summary>
public sealed class RedisSentinelGroup : IAsyncDisposable
{
    public const string ServiceName = "coordination";

    private static readonly TimeSpan FormTimeout = TimeSpan.FromSeconds(30);
    private readonly List<RedisServer> _servers;
    private readonly List<(int Port, Process Process, string Directory)> _sentinels;

    private RedisSentinelGroup(List<RedisServer> servers, List<(int, Process, string)> sentinels)
    {
        _servers = servers;
        _sentinels = sentinels;
    }

    /// <summary>The servers: the first primary, then the two replicas (roles change with a failover).</summary>
    public IReadOnlyList<RedisServer> Servers => _servers;

    /// <summary>The sentinels and the service, for StackExchange.Redis and <c>ConnectionStrings:redis</c>.</summary>
    public string ConnectionString =>
        string.Join(',', _sentinels.Select(s => $"127.0.0.1:{s.Port}")) + $",serviceName={ServiceName}";

    public static async Task<RedisSentinelGroup> StartAsync(CancellationToken cancellationToken = default)
    {
        var group = new RedisSentinelGroup([], []);
        try
        {
            var primary = await RedisServer.StartAsync(cancellationToken);
            group._servers.Add(primary);
            // Only the first replica can be elected. On a loaded machine the sentinels once took the new primary for
            // down while the other replica was still copying it, and elected that one: sessions rolled back to their
            // states from before the first kill. A second failure (Redis's asynchronous replication, which no client
            // can undo), not the failover under test.
            group._servers.Add(await RedisServer.StartReplicaAsync(primary, promotable: true, cancellationToken));
            group._servers.Add(await RedisServer.StartReplicaAsync(primary, promotable: false, cancellationToken));

            for (var i = 0; i < 3; i++)
            {
                group._sentinels.Add(StartSentinel(primary.Port));
            }

            await group.WaitUntilFormedAsync(cancellationToken);
            return group;
        }
        catch
        {
            await group.DisposeAsync();
            throw;
        }
    }

    /// <summary>The address of the primary as the first sentinel that answers reports it (port only: all are loopback).</summary>
    public async Task<int> PrimaryPortAsync(CancellationToken cancellationToken = default)
    {
        foreach (var sentinel in _sentinels)
        {
            var reply = await SentinelAsync(sentinel.Port, ["get-master-addr-by-name", ServiceName], cancellationToken);
            var lines = reply.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (lines.Length == 2 && int.TryParse(lines[1], CultureInfo.InvariantCulture, out var port))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No sentinel reported a primary.");
    }

    public RedisServer ServerOn(int port) => _servers.Single(s => s.Port == port);

    public async ValueTask DisposeAsync()
    {
        foreach (var (_, process, directory) in _sentinels)
        {
            ProcessUtil.TryKill(process);
            ChildProcesses.Untrack(process);
            process.Dispose();
            try
            {
                KeptLogs.Keep(Path.Combine(directory, "sentinel.log"), $"{Path.GetFileName(directory)}.log");
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }

        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }
    }

    private static (int, Process, string) StartSentinel(int primaryPort)
    {
        var directory = Directory.CreateTempSubdirectory("coord-it-sentinel-").FullName;
        var port = ProcessUtil.GetFreePort();
        var config = Path.Combine(directory, "sentinel.conf");
        File.WriteAllLines(config,
        [
            $"port {port}",
            "bind 127.0.0.1",
            "daemonize no",
            $"dir {directory}",
            $"logfile {Path.Combine(directory, "sentinel.log")}",
            $"sentinel monitor {ServiceName} 127.0.0.1 {primaryPort} 2",
            $"sentinel down-after-milliseconds {ServiceName} 1000",
            // Redis's default is 3 minutes. Not much less: on a loaded machine a failover can take longer than a short
            // timeout, and the sentinels then start another one with the other replica, which may lag behind the first
            // (it rolled back every session's last updates once, at 5 s: a second loss, not the failover under test).
            $"sentinel failover-timeout {ServiceName} 60000",
            $"sentinel parallel-syncs {ServiceName} 2",
        ]);
        var startInfo = new ProcessStartInfo(RedisPrograms.Server) { UseShellExecute = false, WorkingDirectory = directory };
        startInfo.ArgumentList.Add(config);
        startInfo.ArgumentList.Add("--sentinel");
        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("A sentinel did not start.");
        ChildProcesses.Track(process);
        return (port, process, directory);
    }

    private static Task<string> SentinelAsync(int port, string[] arguments, CancellationToken cancellationToken) =>
        ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", port.ToString(CultureInfo.InvariantCulture), "sentinel", .. arguments], TimeSpan.FromSeconds(5), cancellationToken);

    private async Task WaitUntilFormedAsync(CancellationToken cancellationToken)
    {
        await ProcessUtil.WaitUntilAsync(
            async () =>
            {
                try
                {
                    return await IsFormedAsync(cancellationToken);
                }
                catch (InvalidOperationException)
                {
                    // A sentinel or replica not listening yet: redis-cli exits non-zero.
                    return false;
                }
            },
            FormTimeout,
            "the sentinel group to form (every sentinel seeing 2 replicas and 2 other sentinels, replicas in sync)",
            cancellationToken,
            TimeSpan.FromMilliseconds(200));
    }

    private async Task<bool> IsFormedAsync(CancellationToken cancellationToken)
    {
        foreach (var sentinel in _sentinels)
        {
            var master = await SentinelAsync(sentinel.Port, ["master", ServiceName], cancellationToken);
            if (!HasField(master, "num-slaves", "2") || !HasField(master, "num-other-sentinels", "2"))
            {
                return false;
            }
        }

        foreach (var replica in _servers.Skip(1))
        {
            var info = await ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", replica.Port.ToString(CultureInfo.InvariantCulture), "info", "replication"], TimeSpan.FromSeconds(5), cancellationToken);
            if (!info.Contains("master_link_status:up", StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }

    // redis-cli prints a sentinel's field list one value per line: name, value, name, value...
    private static bool HasField(string reply, string name, string value)
    {
        var lines = reply.Split('\n', StringSplitOptions.TrimEntries);
        for (var i = 0; i + 1 < lines.Length; i++)
        {
            if (lines[i] == name)
            {
                return lines[i + 1] == value;
            }
        }

        return false;
    }
}
