using System.Diagnostics;
using System.Globalization;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// A real Redis Cluster of three primaries on loopback ports, its slots spread over them; with
/// <see cref="StartWithReplicasAsync"/> each primary has a replica that takes over its slots one node timeout after
/// the primary stops answering.
/// </summary>
public sealed class RedisCluster : IRedisTarget, IAsyncDisposable
{
    private static readonly TimeSpan FormTimeout = TimeSpan.FromSeconds(20);

    private readonly AdminConnection _admin = new();

    private RedisCluster(RedisServer[] nodes) => Nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes { get; }

    /// <summary>Every node, for StackExchange.Redis and <c>ConnectionStrings:redis</c>.</summary>
    public string ConnectionString => string.Join(',', Nodes.Select(n => n.ConnectionString));

    /// <summary>A connection to every node with admin commands allowed (CONFIG, FLUSHDB, ...), separate from the ones under test.</summary>
    public Task<ConnectionMultiplexer> GetAdminAsync() => _admin.GetAsync(ConnectionString);

    public static Task<RedisCluster> StartAsync(CancellationToken cancellationToken = default) =>
        StartAsync(replicas: false, cancellationToken);

    /// <summary>Three primaries and three replicas, with a node timeout of 1 s.</summary>
    public static Task<RedisCluster> StartWithReplicasAsync(CancellationToken cancellationToken = default) =>
        StartAsync(replicas: true, cancellationToken);

    /// <summary>The primary that serves <paramref name="fullKey"/>'s slot, as the admin connection's cluster configuration has it (no failover in progress).</summary>
    public async Task<RedisServer> PrimaryServingAsync(string fullKey)
    {
        var endPoint = (await GetAdminAsync()).GetServer(fullKey, flags: CommandFlags.DemandMaster).EndPoint;
        return Nodes.Single(n => n.ConnectionString == EndPointCollection.ToString(endPoint));
    }

    /// <summary>The port of the live primary that serves <paramref name="key"/>'s slot now, as the first node that answers sees it; null while none does (a failover in progress).</summary>
    public async Task<int?> PrimaryPortOfAsync(string key, CancellationToken cancellationToken = default)
    {
        foreach (var node in Nodes)
        {
            try
            {
                var slot = (await Cli(node, ["cluster", "keyslot", key], cancellationToken)).Trim();
                foreach (var line in (await Cli(node, ["cluster", "nodes"], cancellationToken)).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    var fields = line.Split(' ');
                    if (fields[2].Contains("master", StringComparison.Ordinal) && !fields[2].Contains("fail", StringComparison.Ordinal)
                        && fields.Skip(8).Any(range => InRange(range, int.Parse(slot, CultureInfo.InvariantCulture))))
                    {
                        return int.Parse(fields[1].Split('@')[0].Split(':')[1], CultureInfo.InvariantCulture);
                    }
                }

                return null;
            }
            catch (InvalidOperationException)
            {
                // That node is down: ask the next.
            }
        }

        throw new InvalidOperationException("No cluster node answered.");
    }

    private static bool InRange(string range, int slot)
    {
        var bounds = range.Split('-');
        return bounds.Length == 2
            ? slot >= int.Parse(bounds[0], CultureInfo.InvariantCulture) && slot <= int.Parse(bounds[1], CultureInfo.InvariantCulture)
            : int.TryParse(range, CultureInfo.InvariantCulture, out var single) && single == slot;
    }

    private static Task<string> Cli(RedisServer node, string[] arguments, CancellationToken cancellationToken) =>
        ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", node.Port.ToString(CultureInfo.InvariantCulture), .. arguments], TimeSpan.FromSeconds(5), cancellationToken);

    private static async Task<RedisCluster> StartAsync(bool replicas, CancellationToken cancellationToken)
    {
        var nodes = new List<RedisServer>();
        try
        {
            for (var i = 0; i < (replicas ? 6 : 3); i++)
            {
                nodes.Add(replicas
                    ? await RedisServer.StartClusterNodeAsync(TimeSpan.FromSeconds(1), cancellationToken)
                    : await RedisServer.StartClusterNodeAsync(cancellationToken));
            }

            await ProcessUtil.RunAsync(
                RedisPrograms.Cli,
                ["--cluster", "create", .. nodes.Select(n => n.ConnectionString), "--cluster-replicas", replicas ? "1" : "0", "--cluster-yes"],
                FormTimeout,
                cancellationToken);
            var started = Stopwatch.GetTimestamp();
            foreach (var node in nodes)
            {
                while (!(await ProcessUtil.RunAsync(RedisPrograms.Cli, ["-p", node.Port.ToString(CultureInfo.InvariantCulture), "cluster", "info"], FormTimeout, cancellationToken))
                    .Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    if (Stopwatch.GetElapsedTime(started) > FormTimeout)
                    {
                        throw new InvalidOperationException($"The cluster did not reach cluster_state:ok within {FormTimeout}.");
                    }

                    await Task.Delay(50, cancellationToken);
                }
            }

            if (replicas)
            {
                // A replica can take over only once it has synced: wait until every replica's link is up.
                await ProcessUtil.WaitUntilAsync(
                    async () =>
                    {
                        var links = 0;
                        foreach (var node in nodes)
                        {
                            var info = await Cli(node, ["info", "replication"], cancellationToken);
                            links += info.Contains("master_link_status:up", StringComparison.Ordinal) ? 1 : 0;
                        }

                        return links == 3;
                    },
                    FormTimeout,
                    "every cluster replica to sync with its primary",
                    cancellationToken,
                    TimeSpan.FromMilliseconds(100));
            }

            return new RedisCluster([.. nodes]);
        }
        catch
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }

            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _admin.DisposeAsync();

        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
