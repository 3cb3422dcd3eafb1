using StackExchange.Redis;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>
/// What a test needs of the Redis it runs on, whether one server (<see cref="RedisServer"/>) or a Cluster
/// (<see cref="RedisCluster"/>): the connection string for <c>ConnectionStrings:redis</c> and an admin connection
/// separate from the ones under test.
/// </summary>
public interface IRedisTarget
{
    /// <summary>The connection string for StackExchange.Redis and <c>ConnectionStrings:redis</c>.</summary>
    string ConnectionString { get; }

    /// <summary>A connection with admin commands allowed; on a Cluster it reaches every node.</summary>
    Task<ConnectionMultiplexer> GetAdminAsync();
}

/// <summary>Reads over every primary of an admin connection (one server, or each primary of a Cluster).</summary>
public static class RedisTargetExtensions
{
    /// <summary>The connected primaries: the one server, or every primary of a Cluster.</summary>
    public static IServer[] Primaries(this IConnectionMultiplexer admin) =>
        [.. admin.GetServers().Where(server => server.IsConnected && !server.IsReplica)];

    /// <summary>Every key matching <paramref name="pattern"/> on every primary (SCAN, which skips expired keys).</summary>
    public static async Task<List<string>> KeysAsync(this IRedisTarget target, string pattern)
    {
        var admin = await target.GetAdminAsync();
        var keys = new List<string>();
        foreach (var server in admin.Primaries())
        {
            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                keys.Add(key!);
            }
        }

        return keys;
    }

    /// <summary>Redis's clock (TIME) of the first primary.</summary>
    public static async Task<DateTime> TimeAsync(this IRedisTarget target) =>
        await (await target.GetAdminAsync()).Primaries()[0].TimeAsync();
}
