using Coordination.IntegrationTests.Infrastructure;
using Npgsql;

namespace Coordination.IntegrationTests.Locks;

/// <summary>Fencing end to end: lock holders write to PostgreSQL through <see cref="FencedUpdate"/>; a stale holder is refused.</summary>
public sealed class FencedUpdateTests(SharedRedisFixture redis, PostgresFixture postgres)
{
    private static CancellationToken Token => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ExecuteAsync_StaleHolderAfterExpiry_IsRefusedNewerHolderApplies()
    {
        var pg = await postgres.GetServerAsync().WaitAsync(TimeSpan.FromSeconds(60), Token);
        await using var dataSource = NpgsqlDataSource.Create(pg.ConnectionString);
        var table = TestKeys.NewSchema();
        await using (var create = dataSource.CreateCommand($"CREATE TABLE {table} (id text PRIMARY KEY, balance int NOT NULL, fencing_token bigint)"))
        {
            await create.ExecuteNonQueryAsync(Token);
        }

        await using var hosts = await LockHosts.StartAsync(redis.ConnectionString);

        // The first holder pauses (GC, network) past its lock's time to live; the second takes the lock and writes.
        var stale = await hosts.Locks(0).AcquireAsync("account-1", new LockOptions { TimeToLive = TimeSpan.FromMilliseconds(200) }, Token);
        await Task.Delay(300, Token);
        await using var fresh = await LockTestFlows.UnrelatedAsync(() => hosts.Locks(1).AcquireAsync("account-1", cancellationToken: Token).AsTask());
        Assert.True(fresh.FencingToken > stale.FencingToken);

        var freshWrite = new FencedUpdate(table) { InsertIfMissing = true }.Key("id", "account-1").Set("balance", 200);
        Assert.True(await freshWrite.ExecuteAsync(dataSource, fresh.FencingToken, Token));
        Assert.True(await freshWrite.ExecuteAsync(dataSource, fresh.FencingToken, Token), "The same hold may write again.");

        // The stale holder wakes up and writes: refused, by update and by upsert, whatever it believes.
        Assert.False(await new FencedUpdate(table).Key("id", "account-1").Set("balance", 100).ExecuteAsync(dataSource, stale.FencingToken, Token));
        Assert.False(await new FencedUpdate(table) { InsertIfMissing = true }.Key("id", "account-1").Set("balance", 100).ExecuteAsync(dataSource, stale.FencingToken, Token));
        Assert.False(await new FencedUpdate(table) { RequireNewerToken = true }.Key("id", "account-1").Set("balance", 300).ExecuteAsync(dataSource, fresh.FencingToken, Token));
        Assert.False(await new FencedUpdate(table).Key("id", "missing").Set("balance", 1).ExecuteAsync(dataSource, fresh.FencingToken, Token));

        await using var connection = await dataSource.OpenConnectionAsync(Token);
        await using (var transaction = await connection.BeginTransactionAsync(Token))
        {
            Assert.True(await new FencedUpdate(table).Key("id", "account-1").Set("balance", 250).ExecuteAsync(connection, fresh.FencingToken, transaction, Token));
            await transaction.CommitAsync(Token);
        }

        await using var read = dataSource.CreateCommand($"SELECT balance, fencing_token FROM {table} WHERE id = 'account-1'");
        await using var reader = await read.ExecuteReaderAsync(Token);
        Assert.True(await reader.ReadAsync(Token));
        Assert.Equal((250, fresh.FencingToken), (reader.GetInt32(0), reader.GetInt64(1)));
        await stale.DisposeAsync();
    }
}
