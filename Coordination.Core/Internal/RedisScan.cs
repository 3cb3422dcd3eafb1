using System.Net;
using System.Runtime.CompilerServices;
using StackExchange.Redis;

namespace Coordination;

/// <summary>
/// SCAN over every primary of the pool's connection: the one server, or each primary of a Redis Cluster in turn (a
/// keyless SCAN sent through a database goes to any node, so on a cluster it would walk one node, or mix the
/// cursors of several). Each page is one call through the executor, on the node the walk is on.
/// </summary>
internal static class RedisScan
{
    /// <summary>The keys of type <paramref name="type"/> matching <paramref name="pattern"/> on every primary, in pages of about <paramref name="count"/>.</summary>
    public static async IAsyncEnumerable<string[]> PagesAsync(
        RedisExecutor executor,
        string operation,
        string pattern,
        string type,
        int count,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var primaries = await executor.ExecuteAsync(
            operation,
            idempotent: true,
            static (db, _) => Task.FromResult(PrimariesOf(db.Multiplexer)),
            0,
            cancellationToken);
        foreach (var primary in primaries)
        {
            var cursor = "0";
            do
            {
                var page = (RedisResult[])(await executor.ExecuteAsync(
                    operation,
                    idempotent: true,
                    static (db, s) => ServerOf(db.Multiplexer, s.Primary).ExecuteAsync("SCAN", s.Cursor, "MATCH", s.Pattern, "COUNT", s.Count, "TYPE", s.Type),
                    (Primary: primary, Cursor: cursor, Pattern: pattern, Count: count, Type: type),
                    cancellationToken))!;
                cursor = (string)page[0]!;
                yield return (string[])page[1]!;
            }
            while (cursor != "0");
        }
    }

    private static EndPoint[] PrimariesOf(IConnectionMultiplexer multiplexer)
    {
        var primaries = multiplexer.GetServers().Where(server => server.IsConnected && !server.IsReplica).Select(server => server.EndPoint).ToArray();
        return primaries.Length > 0
            ? primaries
            : throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "No connected primary to SCAN.", null, CommandStatus.Unknown);
    }

    /// <summary>The primary at <paramref name="endpoint"/> on this connection of the pool (every connection knows the same nodes).</summary>
    private static IServer ServerOf(IConnectionMultiplexer multiplexer, EndPoint endpoint) =>
        multiplexer.GetServers().FirstOrDefault(server => server.EndPoint.Equals(endpoint) && server.IsConnected && !server.IsReplica)
        ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, $"The primary {endpoint} being SCANned is not connected.", null, CommandStatus.Unknown);
}
