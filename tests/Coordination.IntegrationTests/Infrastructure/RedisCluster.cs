using System.Diagnostics;
using System.Globalization;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>A real Redis Cluster of three primaries (no replicas) on loopback ports, its slots spread over them.</summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private static readonly TimeSpan FormTimeout = TimeSpan.FromSeconds(20);

    private RedisCluster(RedisServer[] nodes) => Nodes = nodes;

    public IReadOnlyList<RedisServer> Nodes { get; }

    /// <summary>Every node, for StackExchange.Redis and <c>ConnectionStrings:redis</c>.</summary>
    public string ConnectionString => string.Join(',', Nodes.Select(n => n.ConnectionString));

    public static async Task<RedisCluster> StartAsync(CancellationToken cancellationToken = default)
    {
        var nodes = new List<RedisServer>();
        try
        {
            for (var i = 0; i < 3; i++)
            {
                nodes.Add(await RedisServer.StartClusterNodeAsync(cancellationToken));
            }

            await ProcessUtil.RunAsync(
                "redis-cli",
                ["--cluster", "create", .. nodes.Select(n => n.ConnectionString), "--cluster-replicas", "0", "--cluster-yes"],
                FormTimeout,
                cancellationToken);
            var started = Stopwatch.GetTimestamp();
            foreach (var node in nodes)
            {
                while (!(await ProcessUtil.RunAsync("redis-cli", ["-p", node.Port.ToString(CultureInfo.InvariantCulture), "cluster", "info"], FormTimeout, cancellationToken))
                    .Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    if (Stopwatch.GetElapsedTime(started) > FormTimeout)
                    {
                        throw new InvalidOperationException($"The cluster did not reach cluster_state:ok within {FormTimeout}.");
                    }

                    await Task.Delay(50, cancellationToken);
                }
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
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }
    }
}
