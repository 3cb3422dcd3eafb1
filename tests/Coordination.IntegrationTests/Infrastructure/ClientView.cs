using StackExchange.Redis;

namespace Coordination.IntegrationTests.Infrastructure;

/// <summary>What a host's Redis client believes about the servers, checked against what the servers say.</summary>
public static class ClientView
{
    /// <summary>
    /// Waits until no pooled client of <paramref name="host"/> takes a replica for a primary. Right after a failover a
    /// client can for a moment count a reconnected replica among the primaries and route a read to it, a few
    /// milliseconds behind the primary; reads that must see every acknowledged write wait for this first.
    /// </summary>
    public static Task WaitUntilNoReplicaTakenForPrimaryAsync(CoordinationTestHost host, TimeSpan timeout, CancellationToken cancellationToken) =>
        ProcessUtil.WaitUntilAsync(
            async () =>
            {
                foreach (var multiplexer in host.Executor.Pool.Multiplexers)
                {
                    foreach (var server in multiplexer.GetServers().Where(s => s.IsConnected && !s.IsReplica))
                    {
                        try
                        {
                            if ((await server.RoleAsync()).Value != "master")
                            {
                                return false;
                            }
                        }
                        catch (RedisException)
                        {
                            return false;
                        }
                    }
                }

                return true;
            },
            timeout,
            "no replica taken for a primary by the host's Redis client",
            cancellationToken);
}
