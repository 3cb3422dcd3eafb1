using System.Net;
using System.Security.Cryptography;
using System.Text;
using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Connections;

/// <summary>
/// A script call answered NOSCRIPT (Redis lost its script cache: a restart, or a failover to a replica, since
/// SCRIPT LOAD is not replicated) loads every script and runs again. Found by <see cref="FailoverAvailabilityTests"/>:
/// right after a Sentinel failover a lock acquisition reached the promoted replica, the reload skipped it (the client
/// still saw it as a replica) and the second NOSCRIPT reached the caller as a raw <see cref="RedisServerException"/>.
/// </summary>
public sealed class ScriptReloadTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ScriptsMissing_LoadedOnEveryConnectedServer_ReplicasIncluded()
    {
        await using var primary = await RedisServer.StartAsync(Token);
        await using var replica = await RedisServer.StartReplicaAsync(primary, cancellationToken: Token);
        var replicaServer = (await replica.GetAdminAsync()).GetServer(IPAddress.Loopback, replica.Port);
        await ProcessUtil.WaitUntilAsync(
            async () => ((string?)await replicaServer.ExecuteAsync("INFO", "replication"))!.Contains("master_link_status:up", StringComparison.Ordinal),
            TimeSpan.FromSeconds(20),
            "the replica to sync",
            Token);
        await using var host = await CoordinationTestHost.StartAsync($"{primary.ConnectionString},{replica.ConnectionString}");
        await (await primary.GetAdminAsync()).GetServer(IPAddress.Loopback, primary.Port).ScriptFlushAsync();
        await replicaServer.ScriptFlushAsync();

        await using (await host.Coordinator.Locks.AcquireAsync("after-flush", cancellationToken: Token))
        {
        }

        var missing = new List<string>();
        foreach (var script in RedisScript.All)
        {
            if (!await replicaServer.ScriptExistsAsync(script.Source))
            {
                missing.Add(script.Name);
            }
        }

        Assert.Empty(missing);
    }

    [Fact]
    public async Task ScriptStillMissingAfterTheReload_FailsAsUnavailable_NotAsARawServerError()
    {
        await using var server = await RedisServer.StartAsync(Token);
        await using var host = await CoordinationTestHost.StartAsync(server.ConnectionString);
        // A script no reload knows: every run is answered NOSCRIPT, as when the server answering changes under the call.
        var unknown = "return '" + Guid.NewGuid().ToString("N") + "'";
#pragma warning disable CA5350 // SHA-1 is how Redis names scripts.
        var sha = SHA1.HashData(Encoding.UTF8.GetBytes(unknown));
#pragma warning restore CA5350

        foreach (var idempotent in new[] { true, false })
        {
            var ex = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () =>
                await host.Executor.ExecuteAsync("test.noscript", idempotent, static (db, sha) => db.ScriptEvaluateAsync(sha, [], []), sha, Token));
            Assert.Equal(UnavailableReason.ServerUnavailable, ex.Reason);
            Assert.True(RedisScript.IsMissing(ex.InnerException!), ex.ToString());
        }
    }
}
