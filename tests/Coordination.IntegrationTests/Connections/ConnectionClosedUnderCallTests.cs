using Coordination.IntegrationTests.Infrastructure;
using StackExchange.Redis;

namespace Coordination.IntegrationTests.Connections;

/// <summary>
/// A call whose pooled connection the pool closes under it (a stalled connection replaced, the pool shrinking, the
/// pool closing) fails like any connection failure, as <see cref="CoordinationUnavailableException"/>, never as the
/// client's raw <see cref="ObjectDisposedException"/>. Found by <see cref="FailoverAvailabilityTests"/>: a session read
/// right after a Sentinel failover met a connection the pool had just closed.
/// </summary>
public sealed class ConnectionClosedUnderCallTests
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PoolClosesTheConnectionUnderACall_CallFailsAsUnavailable()
    {
        await using var server = await RedisServer.StartAsync(Token);
        foreach (var idempotent in new[] { true, false })
        {
            await using var host = await CoordinationTestHost.StartAsync(server.ConnectionString);
            var pool = host.Executor.Pool;
            var ex = await Assert.ThrowsAsync<CoordinationUnavailableException>(async () =>
                await host.Executor.ExecuteAsync(
                    "test.closed",
                    idempotent,
                    static async (db, pool) =>
                    {
                        // The pool closes its connections between the call's start and its command.
                        await pool.DisposeAsync();
                        return await db.StringGetAsync("k");
                    },
                    pool,
                    Token));
            Assert.Equal(UnavailableReason.ConnectionFailed, ex.Reason);
        }
    }
}
